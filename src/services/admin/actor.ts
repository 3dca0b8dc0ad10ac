import { INSTANCE_ID } from '../../domain/user-records';
import type { UserRow } from '../../db/schema';
import { unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';

/** Who performs an admin action: an admin-role JWT's role, or the operator's CLI. */
export interface AdminActor {
  role: string;
}

/**
 * GoTrue's stand-in user for an admin caller in audit rows: the nil id, the role as its username
 * (so `GET /admin/audit?query=author:service_role` finds what a backend did).
 */
export const auditActorOf = (actor: AdminActor): Pick<UserRow, 'id' | 'email' | 'phone' | 'raw_user_meta_data'> => ({
  id: INSTANCE_ID,
  email: actor.role,
  phone: null,
  raw_user_meta_data: null,
});

/** The traits GoTrue's admin audit rows carry about the user acted on. */
export const userTraits = (u: Pick<UserRow, 'id' | 'email' | 'phone'>) => ({
  user_id: u.id,
  user_email: u.email ?? '',
  user_phone: u.phone ?? '',
});

/**
 * Maps a unique violation on users to GoTrue's answer (a concurrent admin call won the race past the pre-check);
 * anything else is rethrown.
 */
export function rethrowUserConflict(err: unknown): never {
  const e = err as { code?: string; constraint?: string };
  if (e?.code === '23505') {
    if (e.constraint === 'users_email_partial_key') throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
    if (e.constraint === 'users_phone_key') throw unprocessable(ErrorCodes.phoneExists, 'Phone number already registered by another user');
    if (e.constraint === 'users_pkey') throw unprocessable(ErrorCodes.userAlreadyExists, 'A user with this ID already exists');
  }
  throw err;
}
