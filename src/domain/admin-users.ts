import { createHash } from 'node:crypto';
import type { Db, Executor } from '../db/database';
import { deleteFactorsOfUser } from '../db/repositories/factors';
import { listIdentitiesOfUser, scrubIdentity } from '../db/repositories/identities';
import { deleteSessions } from '../db/repositories/sessions';
import { countUsers, listUsersAfter, listUsersWithRelations, updateUser, type UserKey, type UserSearch, type UserWithRelations } from '../db/repositories/users';
import type { UserRow } from '../db/schema';
import { revokeAllTokens } from './one-time-tokens';

/** What the admin API does to user rows beyond the flows' own changes: listing, and hard or soft deletion. */

/** A hard delete: the row goes, and with it (by cascade) identities, sessions, factors and one-time tokens. */
export { deleteUserRow, type UserSearch } from '../db/repositories/users';
/** The distinct providers of the user's identities, oldest identity first (app_metadata.providers). */
export { providersOfUser } from '../db/repositories/identities';

/** One page of an audience's users with their relations, by created_at, and how many match in all. */
export async function usersPage(
  db: Db,
  search: UserSearch,
  page: { direction: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ users: UserWithRelations[]; total: number }> {
  const [total, users] = await Promise.all([countUsers(db, search), listUsersWithRelations(db, { ...search, ...page })]);
  return { users, total };
}

export type { UserKey } from '../db/repositories/users';

/**
 * One keyset page of an audience's users (GoTrue's cursor mode): up to `limit` users after `after`, and the key
 * of the last one when more follow (one row more is read to know). No count: the cost stays flat as the table grows.
 */
export async function usersAfter(
  db: Db,
  search: UserSearch,
  page: { direction: 'asc' | 'desc'; limit: number; after?: UserKey },
): Promise<{ users: UserWithRelations[]; next: UserKey | undefined }> {
  const rows = await listUsersAfter(db, { ...search, ...page, limit: page.limit + 1 });
  const hasMore = rows.length > page.limit;
  const shown = hasMore ? rows.slice(0, page.limit) : rows;
  return { users: shown.map(({ key: _key, ...user }) => user), next: hasMore ? shown[shown.length - 1]!.key : undefined };
}

/** GoTrue's obfuscation: base64url(SHA-256(user id ‖ value)), stable per user, revealing nothing of the value. */
const obfuscate = (userId: string, value: string) => createHash('sha256').update(userId + value).digest('base64url');

/**
 * GoTrue's soft delete (should_soft_delete), inside the caller's transaction on the locked row: the row stays
 * with deleted_at set, its email/phone (and pending changes) obfuscated, password, one-time tokens and metadata
 * wiped, identities scrubbed, factors and sessions dropped. A user already soft-deleted is left as it is.
 */
export async function softDeleteUser(trx: Executor, user: UserRow, now: Date): Promise<void> {
  if (user.deleted_at) return;
  const hide = (v: string | null, max?: number) => (v ? obfuscate(user.id, v).slice(0, max) : v);
  await updateUser(trx, user.id, {
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
  await revokeAllTokens(trx, user.id);
  for (const identity of await listIdentitiesOfUser(trx, user.id)) {
    await scrubIdentity(trx, identity.id, obfuscate(user.id, `${identity.provider}:${identity.provider_id}`), now);
  }
  await deleteFactorsOfUser(trx, user.id);
  await deleteSessions(trx, user.id);
}
