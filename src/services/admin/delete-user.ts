import { createHash } from 'node:crypto';
import { insertAuditEntries } from '../../db/repositories/audit-log';
import { deleteFactorsOfUser } from '../../db/repositories/factors';
import { listIdentitiesOfUser, scrubIdentity } from '../../db/repositories/identities';
import { deleteSessions } from '../../db/repositories/sessions';
import { deleteUserRow, lockUser, updateUser } from '../../db/repositories/users';
import type { Deps } from '../../deps';
import { auditEntry } from '../../domain/audit';
import { revokeAllTokens } from '../../domain/one-time-tokens';
import type { RequestMeta } from '../../domain/request-meta';
import { auditActorOf, userTraits, type AdminActor } from './actor';
import { userNotFound } from './update-user';

/** GoTrue's obfuscation: base64url(SHA-256(user id ‖ value)), stable per user, revealing nothing of the value. */
const obfuscate = (userId: string, value: string) => createHash('sha256').update(userId + value).digest('base64url');

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
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const user = await lockUser(trx, userId);
    if (!user) throw userNotFound();
    await insertAuditEntries(trx, [auditEntry(deps, meta, auditActorOf(actor), 'user_deleted', userTraits(user))]);
    if (!opts.soft) {
      await deleteUserRow(trx, userId);
      return;
    }
    if (user.deleted_at) return;
    const hide = (v: string | null, max?: number) => (v ? obfuscate(userId, v).slice(0, max) : v);
    await updateUser(trx, userId, {
      email: hide(user.email),
      phone: hide(user.phone, 15),
      email_change: hide(user.email_change),
      phone_change: hide(user.phone_change, 15),
      encrypted_password: null,
      raw_user_meta_data: JSON.stringify({}),
      raw_app_meta_data: JSON.stringify({}),
      deleted_at: now,
      updated_at: now,
    });
    await revokeAllTokens(trx, userId);
    for (const identity of await listIdentitiesOfUser(trx, userId)) {
      await scrubIdentity(trx, identity.id, obfuscate(userId, `${identity.provider}:${identity.provider_id}`), now);
    }
    await deleteFactorsOfUser(trx, userId);
    await deleteSessions(trx, userId);
  });
}
