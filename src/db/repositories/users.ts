import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Executor } from '../database';
import { prepared } from '../prepared';
import type { NewUser, UserRow, UserUpdate } from '../schema';

/** GoTrue keeps one instance; every row carries the nil UUID. */
export const INSTANCE_ID = '00000000-0000-0000-0000-000000000000';

/** A user with the relations every response shows: identities and MFA factors. */
export type UserWithRelations = UserRow & {
  identities: IdentityJson[];
  factors: FactorJson[];
};
/** Rows of related tables as Postgres renders them in JSON (timestamps are strings). */
export type IdentityJson = {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  email: string | null;
  last_sign_in_at: string | null;
  created_at: string | null;
  updated_at: string | null;
};
export type FactorJson = {
  id: string;
  friendly_name: string | null;
  factor_type: string;
  status: string;
  phone: string | null;
  created_at: string;
  updated_at: string;
  last_challenged_at: string | null;
  web_authn_aaguid: string | null;
};

/** users as `u` with the relations every response shows (identities, factors) as JSON arrays, in one SELECT. */
export function selectUserWithRelations(ex: Executor) {
  return ex
    .selectFrom('users as u')
    .selectAll('u')
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('identities as i')
          .select(['i.id', 'i.provider_id', 'i.user_id', 'i.identity_data', 'i.provider', 'i.email', 'i.last_sign_in_at', 'i.created_at', 'i.updated_at'])
          .whereRef('i.user_id', '=', 'u.id')
          .orderBy('i.created_at')
          .orderBy('i.id'),
      ).as('identities'),
      jsonArrayFrom(
        eb
          .selectFrom('mfa_factors as f')
          .select(['f.id', 'f.friendly_name', 'f.factor_type', 'f.status', 'f.phone', 'f.created_at', 'f.updated_at', 'f.last_challenged_at', 'f.web_authn_aaguid'])
          .whereRef('f.user_id', '=', 'u.id')
          .orderBy('f.created_at'),
      ).as('factors'),
    ]);
}

const userWithSession = prepared(2, (ex, userId, sessionId) =>
  selectUserWithRelations(ex)
    .select((eb) =>
      eb
        .exists(eb.selectFrom('sessions as s').select('s.id').where('s.id', '=', sessionId!).whereRef('s.user_id', '=', 'u.id'))
        .as('session_exists'),
    )
    .where('u.id', '=', userId!),
);
const userOnly = prepared(1, (ex, userId) => selectUserWithRelations(ex).where('u.id', '=', userId!));

/**
 * The user, their identities and factors, and (when a session id is given) whether that session still exists
 * for them — all in one round trip, since this runs on every authenticated request (compiled once: prepared).
 */
export async function findUserWithRelations(
  ex: Executor,
  userId: string,
  sessionId?: string,
): Promise<(UserWithRelations & { session_exists: boolean }) | undefined> {
  if (sessionId === undefined) {
    const [row] = await userOnly(ex, userId);
    return row ? ({ ...row, session_exists: true } as UserWithRelations & { session_exists: boolean }) : undefined;
  }
  const [row] = await userWithSession(ex, userId, sessionId);
  return row as (UserWithRelations & { session_exists: boolean }) | undefined;
}

/** A non-SSO user by email (stored lower-cased) within an audience. */
export async function findUserByEmail(ex: Executor, email: string, aud: string): Promise<UserRow | undefined> {
  return ex
    .selectFrom('users')
    .selectAll()
    .where('instance_id', '=', INSTANCE_ID)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .where('aud', '=', aud)
    .where('is_sso_user', '=', false)
    .executeTakeFirst();
}

/** A user by phone (digits only) within an audience. */
export async function findUserByPhone(ex: Executor, phone: string, aud: string): Promise<UserRow | undefined> {
  return ex
    .selectFrom('users')
    .selectAll()
    .where('instance_id', '=', INSTANCE_ID)
    .where('phone', '=', phone)
    .where('aud', '=', aud)
    .where('is_sso_user', '=', false)
    .executeTakeFirst();
}

export async function insertUser(ex: Executor, user: NewUser): Promise<void> {
  await ex.insertInto('users').values(user).execute();
}

export async function updateUser(ex: Executor, userId: string, patch: UserUpdate): Promise<void> {
  await ex.updateTable('users').set(patch).where('id', '=', userId).execute();
}

/** Locks the user row until the transaction ends, so concurrent updates of one user serialise. */
export async function lockUser(ex: Executor, userId: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('id', '=', userId).forUpdate().executeTakeFirst();
}

/** Non-SSO users of an audience whose email is one of these (lower-cased). */
export async function findUsersByEmails(ex: Executor, emails: string[], aud: string): Promise<UserRow[]> {
  if (emails.length === 0) return [];
  return ex
    .selectFrom('users')
    .selectAll()
    .where('instance_id', '=', INSTANCE_ID)
    .where((eb) => eb(eb.fn('lower', ['email']), 'in', emails))
    .where('aud', '=', aud)
    .where('is_sso_user', '=', false)
    .execute();
}
