import { INSTANCE_ID } from '../../domain/user-records';
import type { UserRow } from '../../db/schema';

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
