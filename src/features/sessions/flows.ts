import type { Deps } from '../../deps';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import type { AuthenticatedUser } from '../../domain/authenticate';
import type { RequestMeta } from '../../domain/request-meta';
import { findUserWithRelations, INSTANCE_ID } from '../../domain/user-records';
import { endSessions, listLiveSessions, type SessionSummary } from '../../domain/user-sessions';
import { notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';

/**
 * The sessions API: a signed-in user sees and ends their own sessions, an admin a user's. Ending a session deletes
 * its row in one transaction with its audit row; its refresh tokens and AMR claims go by cascade, so a refresh
 * with one of them answers refresh_token_not_found at once, and an access token naming it session_not_found.
 */

const sessionNotFound = () => notFound(ErrorCodes.sessionNotFound, 'Session not found');

/** GET /user/sessions: the caller's live sessions; `current` marks the one their access token belongs to. */
export async function listOwnSessions(deps: Deps, auth: AuthenticatedUser): Promise<{ session: SessionSummary; current: boolean }[]> {
  const rows = await listLiveSessions(deps.db, deps.config.sessions, auth.user.id, deps.clock.now());
  return rows.map((session) => ({ session, current: session.id === auth.sessionId }));
}

/**
 * DELETE /user/sessions/{id} (that one, the current one included) or ?scope=others (all but the current one).
 * A session that is not the caller's is 404 session_not_found, as one that does not exist.
 */
export async function revokeOwnSessions(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, which: { only: string } | { others: true }): Promise<void> {
  const { user, sessionId } = auth;
  const ended = await deps.db.transaction().execute(async (trx) => {
    if ('only' in which) {
      const one = await endSessions(trx, user.id, { only: which.only });
      if (one.count === 0) throw sessionNotFound();
      await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'logout', { scope: 'session', session_id: which.only })]);
      return one;
    }
    const others = await endSessions(trx, user.id, sessionId !== undefined ? { except: sessionId } : {});
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'logout', { scope: 'others' })]);
    return others;
  });
  deps.backchannelLogout.notify(ended.backchannel);
}

/** GET /admin/users/{id}/sessions: the user's live sessions; 404 user_not_found for an unknown user. */
export async function adminListSessions(deps: Deps, userId: string): Promise<SessionSummary[]> {
  if (!(await findUserWithRelations(deps.db, userId))) throw notFound(ErrorCodes.userNotFound, 'User not found');
  return listLiveSessions(deps.db, deps.config.sessions, userId, deps.clock.now());
}

/** DELETE /admin/users/{id}/sessions[/{session_id}]: one session of the user, or all of them. Audited as the admin. */
export async function adminRevokeSessions(deps: Deps, meta: RequestMeta, admin: { role: string }, userId: string, sessionId?: string): Promise<void> {
  if (!(await findUserWithRelations(deps.db, userId))) throw notFound(ErrorCodes.userNotFound, 'User not found');
  const ended = await deps.db.transaction().execute(async (trx) => {
    const ended = await endSessions(trx, userId, sessionId !== undefined ? { only: sessionId } : {});
    if (sessionId !== undefined && ended.count === 0) throw sessionNotFound();
    // GoTrue's stand-in actor for an admin caller: the nil id, the role as its username.
    const actor = { id: INSTANCE_ID, email: admin.role, phone: null, raw_user_meta_data: null };
    await insertAuditEntries(trx, [auditEntry(deps, meta, actor, 'token_revoked', { user_id: userId, ...(sessionId ? { session_id: sessionId } : { scope: 'all' }) })]);
    return ended;
  });
  deps.backchannelLogout.notify(ended.backchannel);
}
