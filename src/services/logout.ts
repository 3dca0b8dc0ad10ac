import type { Deps } from '../deps';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import type { RequestMeta } from '../domain/request-meta';
import { endSessions } from '../domain/user-sessions';

export type LogoutScope = 'global' | 'local' | 'others';

/** POST /logout: global = every session of the user, local = this one, others = all but this one. */
export async function logout(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, scope: LogoutScope): Promise<void> {
  const { user, sessionId } = auth;
  const which = scope === 'global' ? {} : scope === 'local' ? (sessionId !== undefined ? { only: sessionId } : undefined) : sessionId !== undefined ? { except: sessionId } : {};
  const ending = await deps.db.transaction().execute(async (trx) => {
    // Issue 15: OAuth clients with a back-channel logout URI hear about their sessions that end (after commit).
    const ended = which ? (await endSessions(trx, user.id, which)).backchannel : [];
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'logout', { scope })]);
    return ended;
  });
  deps.backchannelLogout.notify(ending);
}
