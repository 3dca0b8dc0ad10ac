import { usersAfter, usersPage, type UserKey } from '../../domain/admin-users';
import { findUserWithRelations, type UserWithRelations } from '../../domain/user-records';
import type { Deps } from '../../deps';
import { userNotFound } from './update-user';

export interface ListUsersInput {
  aud: string;
  /** 1-based. */
  page: number;
  perPage: number;
  /** Substring of email, phone or user_metadata.full_name, matched literally and case-insensitively. */
  filter?: string;
  direction: 'asc' | 'desc';
}

/** GET /admin/users: one page of an audience's users, by created_at, and how many there are in all. */
export async function adminListUsers(deps: Pick<Deps, 'db'>, input: ListUsersInput): Promise<{ users: UserWithRelations[]; total: number }> {
  return usersPage(deps.db, { aud: input.aud, filter: input.filter }, { direction: input.direction, limit: input.perPage, offset: (input.page - 1) * input.perPage });
}

/** GET /admin/users in cursor mode: the users after a keyset position, and the position to resume from when more follow. */
export async function adminListUsersAfter(
  deps: Pick<Deps, 'db'>,
  input: { aud: string; limit: number; after?: UserKey; filter?: string; direction: 'asc' | 'desc' },
): Promise<{ users: UserWithRelations[]; next: UserKey | undefined }> {
  return usersAfter(deps.db, { aud: input.aud, filter: input.filter }, { direction: input.direction, limit: input.limit, after: input.after });
}

/** GET /admin/users/{id}: any user of any audience, soft-deleted ones included (they show deleted_at). */
export async function adminGetUser(deps: Pick<Deps, 'db'>, userId: string): Promise<UserWithRelations> {
  const user = await findUserWithRelations(deps.db, userId);
  if (!user) throw userNotFound();
  return user;
}
