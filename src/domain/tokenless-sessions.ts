import type { Executor } from '../db/database';
import { listAmrClaims, upsertAmrClaim } from '../db/repositories/amr-claims';
import { insertAuditEntries } from '../db/repositories/audit-log';
import { listBackchannelSessions, type EndingSession } from '../db/repositories/oauth-logout';
import { revokeSessionRefreshTokens } from '../db/repositories/refresh-tokens';
import { deleteAal1Sessions, endOlderSessions, insertSessionReturningUser, lockUserSession, setSessionAal } from '../db/repositories/sessions';
import { findUserWithRelations } from '../db/repositories/users';
import type { Deps } from '../deps';
import { forbidden } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { effectiveTag } from './session-policy';
import { amrFromRows, type AmrEntry, type IssuedSession, type IssueInput, type UpgradeInput } from './sessions';

/**
 * Sessions held by reference, never by tokens: the hosted OAuth pages keep only a session's id in a signed cookie,
 * so their sign-in and second factor change the session row and mint nothing (the grants' sessions are
 * domain/sessions' `issue` and `upgradeAal`, which also write the refresh token mintTokens hands out). No
 * refresh_tokens row is ever written for such a session: nothing can refresh it, and the OAuth server's code grant
 * starts the client's own session when the user consents.
 *
 * The rules these share with `issue` and `upgradeAal` (the amr list, single-per-user, the aal1 sessions that end) are
 * written out again here because domain/sessions is being reworked elsewhere; once it settles, `issue` and
 * `upgradeAal` can become these plus their refresh token.
 */

/** A session started or raised without tokens: the user as the flow's transaction left it, the session, its amr. */
export type TokenlessSession = Omit<IssuedSession, 'refreshToken' | 'authenticationMethod' | 'expiresIn'>;

/** What a first-party sign-in's session starts with (no OAuth client: those sessions are the code grant's). */
export type TokenlessStart = Pick<IssueInput, 'user' | 'method' | 'aal' | 'amr' | 'meta' | 'audit'>;

/**
 * `issue` without the refresh token: one statement starts the session at the given AAL with its AMR claims and the
 * flow's audit rows, and reads the user back; GOTRUE_SESSIONS_SINGLE_PER_USER ends the user's older sessions of the
 * tag, as any first-party sign-in does.
 */
export async function startTokenlessSession(
  trx: Executor,
  deps: Pick<Deps, 'clock' | 'random'> & { config?: Pick<Deps['config'], 'sessions'> },
  input: TokenlessStart,
): Promise<TokenlessSession> {
  const now = deps.clock.now();
  const sessionId = deps.random.uuid();
  const aal = input.aal ?? 'aal1';
  const amr: AmrEntry[] = [{ method: input.method, timestamp: Math.floor(now.getTime() / 1000) }, ...(input.amr ?? []).filter((e) => e.method !== input.method)];
  const user = await insertSessionReturningUser(
    trx,
    { id: sessionId, userId: input.user.id, aal, now, userAgent: input.meta.userAgent, ip: input.meta.ip || null, oauthClientId: null },
    null,
    amr.map((e) => ({ id: deps.random.uuid(), sessionId, method: e.method, now: new Date(e.timestamp * 1000) })),
    input.audit,
  );
  if (!user) throw new Error(`startTokenlessSession: user ${input.user.id} vanished inside its own transaction`);
  const policy = deps.config?.sessions;
  if (policy?.singlePerUser) await endOlderSessions(trx, input.user.id, sessionId, effectiveTag(null, policy.tags), policy.tags, now);
  return { user, session: { id: sessionId, aal, oauthClientId: null }, amr };
}

/**
 * `upgradeAal` without the refresh-token swap (GoTrue's updateMFASessionAndClaims less the token): inside the
 * caller's transaction the session takes the method in its AMR claims and records aal2 and the factor; the
 * verification's audit rows are written; the user's other aal1 sessions end (GoTrue's
 * InvalidateSessionsWithAALLessThan), those with a back-channel client returned in `ended` for the caller to notify
 * after commit. Any refresh token the session holds is revoked, so no token minted before the raise refreshes at
 * aal2 (a session started by startTokenlessSession has none). A session that is gone is 403 session_not_found.
 */
export async function raiseTokenlessSession(trx: Executor, deps: Pick<Deps, 'clock' | 'random'>, input: UpgradeInput): Promise<TokenlessSession & { ended: EndingSession[] }> {
  const now = deps.clock.now();
  const session = await lockUserSession(trx, input.userId, input.sessionId);
  if (!session) throw forbidden(ErrorCodes.sessionNotFound, 'Session from session_id claim in JWT does not exist');
  await upsertAmrClaim(trx, { id: deps.random.uuid(), sessionId: session.id, method: input.method, now });
  await setSessionAal(trx, session.id, 'aal2', input.factorId, now);
  await revokeSessionRefreshTokens(trx, session.id, now);
  await insertAuditEntries(trx, input.audit);
  const ended = await listBackchannelSessions(trx, input.userId, { aal1: true });
  await deleteAal1Sessions(trx, input.userId);
  const amr = amrFromRows(await listAmrClaims(trx, session.id));
  const found = await findUserWithRelations(trx, input.userId);
  if (!found) throw new Error(`raiseTokenlessSession: user ${input.userId} vanished inside its own transaction`);
  const { session_exists: _ignored, ...user } = found;
  return { user, session: { id: session.id, aal: 'aal2', oauthClientId: session.oauth_client_id }, amr, ended };
}
