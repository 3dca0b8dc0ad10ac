import type { Executor } from '../db/database';
import { listAmrClaims } from '../db/repositories/amr-claims';
import { listBackchannelSessions, type EndingSession } from '../db/repositories/oauth-logout';
import { deleteSessions, findSession, listUserSessions } from '../db/repositories/sessions';
import type { Config } from '../config/config';
import { findUserWithRelations, type UserWithRelations } from '../db/repositories/users';
import type { AalLevel } from '../db/schema';
import { amrFromRows, type AmrEntry } from './sessions';
import { effectiveTag, lastRefreshedAt, sessionVerdict, type PolicySession } from './session-policy';
import { isBanned } from './users';

/**
 * What flows other than the grants do with a user's sessions: end them (logout, a new password, an admin's change
 * or delete) and tell how old one is (the reauthentication window). Starting one is domain/sessions' part.
 */

/** What ending sessions did: how many ended, and those OAuth clients must hear about (back-channel logout). */
export interface EndedSessions {
  count: number;
  /** Hand to `deps.backchannelLogout.notify` after the transaction commits. */
  backchannel: EndingSession[];
}

/**
 * Ends the user's sessions (their refresh tokens and AMR claims go by cascade): all of them, `only` that one, or
 * all `except` that one. The sessions held by OAuth clients with a back-channel logout URI are read first, so every
 * way a session ends (logout, a new password, a ban, a hook's verdict, the sessions API) tells those clients.
 */
export async function endSessions(ex: Executor, userId: string, which: { only?: string; except?: string } = {}): Promise<EndedSessions> {
  const backchannel = await listBackchannelSessions(ex, userId, which);
  const count = await deleteSessions(ex, userId, which);
  return { count, backchannel };
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

export type SessionSummary = Awaited<ReturnType<typeof listUserSessions>>[number];

/**
 * The user's sessions that can still be used (GOTRUE_SESSIONS_* applied with `now`), newest first. A session past
 * its not_after, timebox or inactivity limit can no longer refresh: it is left out, and housekeeping deletes it.
 */
export async function listLiveSessions(ex: Executor, policy: Config['sessions'], userId: string, now: Date): Promise<SessionSummary[]> {
  const rows = await listUserSessions(ex, userId);
  return rows.filter((s) => sessionVerdict(policy, s, now) === 'valid');
}

/**
 * GoTrue's single-per-user rule at refresh: the session may refresh only while no other valid first-party session
 * of the user, under the same tag, was active more recently. Sign-in already ends older sessions; this covers the
 * sessions that existed before GOTRUE_SESSIONS_SINGLE_PER_USER was turned on.
 */
export async function isSupersededSession(
  ex: Executor,
  policy: Config['sessions'],
  userId: string,
  session: PolicySession & { id: string; tag: string | null },
  now: Date,
  tokenTime: Date | null,
): Promise<boolean> {
  const tag = effectiveTag(session.tag, policy.tags);
  const mine = lastRefreshedAt(session, tokenTime).getTime();
  const others = await listUserSessions(ex, userId);
  return others.some(
    (s) => s.id !== session.id && s.oauth_client_id === null && sessionVerdict(policy, s, now) === 'valid' && effectiveTag(s.tag, policy.tags) === tag && lastRefreshedAt(s).getTime() > mine,
  );
}

/** A live session as a browser page sees it (the hosted OAuth pages' cookie names only its id). */
export interface LiveSession {
  user: UserWithRelations;
  sessionId: string;
  aal: AalLevel;
  /** Newest first. */
  amr: AmrEntry[];
  /** The user's verified TOTP factors (the hosted pages' second step), oldest first. */
  totpFactors: { id: string; friendly_name: string | null }[];
  /** The user has a verified factor of any kind (TOTP, phone, WebAuthn). */
  hasVerifiedFactor: boolean;
}

/**
 * A session a browser page may act on: it exists, is a user's own sign-in (not an OAuth client's session), passes
 * GOTRUE_SESSIONS_* (timebox, inactivity, not_after), and its user exists and is not banned; else undefined (the page
 * signs the user in again). Three reads (the session, the user with identities and factors, the AMR claims), no lock: the flows that change state lock what they change.
 */
export async function findLiveSession(ex: Executor, policy: Config['sessions'], sessionId: string, now: Date): Promise<LiveSession | undefined> {
  const session = await findSession(ex, sessionId);
  if (!session || session.oauth_client_id !== null || sessionVerdict(policy, session, now) !== 'valid') return undefined;
  const found = await findUserWithRelations(ex, session.user_id, session.id);
  if (!found || !found.session_exists || isBanned(found, now)) return undefined;
  const { session_exists: _ignored, ...user } = found;
  // The factors came with the user (oldest first, as the hosted pages list them): no second read.
  const verified = user.factors.filter((f) => f.status === 'verified');
  return {
    user,
    sessionId: session.id,
    aal: session.aal ?? 'aal1',
    amr: amrFromRows(await listAmrClaims(ex, session.id)),
    totpFactors: verified.filter((f) => f.factor_type === 'totp').map((f) => ({ id: f.id, friendly_name: f.friendly_name })),
    hasVerifiedFactor: verified.some((f) => f.factor_type !== 'recovery_code'),
  };
}
