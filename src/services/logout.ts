import { insertAuditEntries } from '../db/repositories/audit-log';
import { deleteSessions } from '../db/repositories/sessions';
import type { Deps } from '../deps';
import { auditEntry } from '../domain/audit';
import type { AuthenticatedUser } from './authenticate';
import type { RequestMeta } from '../domain/request-meta';

export type LogoutScope = 'global' | 'local' | 'others';

/** POST /logout: global = every session of the user, local = this one, others = all but this one. */
export async function logout(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, scope: LogoutScope): Promise<void> {
  const { user, sessionId } = auth;
  await deps.db.transaction().execute(async (trx) => {
    if (scope === 'global') await deleteSessions(trx, user.id);
    else if (scope === 'local') {
      if (sessionId !== undefined) await deleteSessions(trx, user.id, { only: sessionId });
    } else await deleteSessions(trx, user.id, sessionId !== undefined ? { except: sessionId } : {});
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'logout', { scope })]);
  });
}
