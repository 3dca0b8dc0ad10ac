import type { Deps } from '../deps';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import type { RequestMeta } from '../domain/request-meta';
import { endSessions } from '../domain/user-sessions';

export type LogoutScope = 'global' | 'local' | 'others';

/** POST /logout: global = every session of the user, local = this one, others = all but this one. */
export async function logout(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, scope: LogoutScope): Promise<void> {
  const { user, sessionId } = auth;
  await deps.db.transaction().execute(async (trx) => {
    if (scope === 'global') await endSessions(trx, user.id);
    else if (scope === 'local') {
      if (sessionId !== undefined) await endSessions(trx, user.id, { only: sessionId });
    } else await endSessions(trx, user.id, sessionId !== undefined ? { except: sessionId } : {});
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'logout', { scope })]);
  });
}
