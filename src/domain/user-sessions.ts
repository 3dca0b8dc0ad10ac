import type { Executor } from '../db/database';
import { listAmrClaims } from '../db/repositories/amr-claims';
import { deleteSessions, findSession } from '../db/repositories/sessions';

/**
 * What flows other than the grants do with a user's sessions: end them (logout, a new password, an admin's change
 * or delete) and tell how old one is (the reauthentication window). Starting one is domain/sessions' part.
 */

/**
 * Ends the user's sessions (their refresh tokens and AMR claims go by cascade): all of them, `only` that one, or
 * all `except` that one. Returns how many ended.
 */
export function endSessions(ex: Executor, userId: string, which: { only?: string; except?: string } = {}): Promise<number> {
  return deleteSessions(ex, userId, which);
}

/** When the session began; undefined when it no longer exists. */
export async function sessionCreatedAt(ex: Executor, sessionId: string): Promise<Date | undefined> {
  return (await findSession(ex, sessionId))?.created_at ?? undefined;
}

/**
 * GoTrue's Session.IsRecovery: one of the session's AMR claims is `recovery` (a PKCE password-recovery sign-in;
 * GoTrue's implicit /verify recovery records `otp`, and so does ours).
 */
export async function isRecoverySession(ex: Executor, sessionId: string): Promise<boolean> {
  return (await listAmrClaims(ex, sessionId)).some((c) => c.authentication_method === 'recovery');
}
