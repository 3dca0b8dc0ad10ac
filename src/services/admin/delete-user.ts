import type { Deps } from '../../deps';
import { deleteUserRow, softDeleteUser } from '../../domain/admin-users';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { endingSessions } from '../../domain/backchannel-logout';
import type { RequestMeta } from '../../domain/request-meta';
import { lockUser } from '../../domain/user-records';
import { auditActorOf, userTraits, type AdminActor } from './actor';
import { userNotFound } from './update-user';

/**
 * DELETE /admin/users/{id} (and `gotrue admin deleteuser`). Hard: the row goes, and with it (by cascade) its
 * identities, sessions, refresh tokens, factors and one-time tokens. Soft (GoTrue's should_soft_delete): the row
 * stays with deleted_at set, its email/phone (and pending changes) obfuscated, password, tokens and metadata
 * wiped, identities scrubbed, factors and sessions dropped; soft-deleting twice changes nothing more. Either
 * way one transaction with a user_deleted audit row naming the admin.
 */
export async function adminDeleteUser(
  deps: Deps,
  meta: RequestMeta,
  actor: AdminActor,
  userId: string,
  opts: { soft: boolean },
): Promise<void> {
  const ending = await deps.db.transaction().execute(async (trx) => {
    const user = await lockUser(trx, userId);
    if (!user) throw userNotFound();
    // Issue 15: OAuth clients with a back-channel logout URI hear that the user's sessions ended (after commit).
    const notify = await endingSessions(trx, userId);
    await insertAuditEntries(trx, [auditEntry(deps, meta, auditActorOf(actor), 'user_deleted', userTraits(user))]);
    if (opts.soft) await softDeleteUser(trx, user, deps.clock.now());
    else await deleteUserRow(trx, userId);
    return notify;
  });
  deps.backchannelLogout.notify(ending);
}
