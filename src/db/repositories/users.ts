import { sql, type ExpressionBuilder, type QueryCreator } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Executor } from '../database';
import { prepared } from '../prepared';
import type { Database, NewUser, OneTimeTokenType, UserRow, UserUpdate } from '../schema';

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

/** The identities and factors of the user aliased `u`, as JSON arrays (one query, no N+1). */
function relationsOf(eb: ExpressionBuilder<Database & { u: Database['users'] }, 'u'>) {
  return [
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
        .orderBy('f.created_at')
        .orderBy('f.id'),
    ).as('factors'),
  ] as const;
}

/**
 * users as `u` with the relations every response shows (identities, factors), in one SELECT. Takes any query
 * creator, so a statement can put data-modifying CTEs in front of it (sessions.ts).
 */
export function selectUserWithRelations(ex: Pick<QueryCreator<Database>, 'selectFrom'>) {
  return ex
    .selectFrom('users as u')
    .selectAll('u')
    .select((eb) => relationsOf(eb));
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

/** Which users an admin listing shows: one audience, optionally a substring of email, phone or full name. */
export interface UserSearch {
  aud: string;
  /** Matched literally: LIKE wildcards in it are escaped. */
  filter?: string;
}

/** Escapes LIKE's wildcards and its escape character, so user input matches literally. */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function searchUsers(ex: Executor, q: UserSearch) {
  let query = ex.selectFrom('users as u').where('u.instance_id', '=', INSTANCE_ID).where('u.aud', '=', q.aud);
  if (q.filter !== undefined && q.filter !== '') {
    const pattern = `%${escapeLike(q.filter)}%`;
    const phonePattern = `%${escapeLike(q.filter.replace(/^\+/, ''))}%`;
    query = query.where((eb) =>
      eb.or([
        sql<boolean>`${eb.ref('u.email')} ilike ${pattern} escape '\\'`,
        sql<boolean>`${eb.ref('u.phone')} like ${phonePattern} escape '\\'`,
        sql<boolean>`(${eb.ref('u.raw_user_meta_data')} ->> 'full_name') ilike ${pattern} escape '\\'`,
      ]),
    );
  }
  return query;
}

export async function countUsers(ex: Executor, q: UserSearch): Promise<number> {
  const row = await searchUsers(ex, q)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One page of users with their relations, by created_at (then id, so pages never overlap or skip). */
export async function listUsersWithRelations(
  ex: Executor,
  q: UserSearch & { direction: 'asc' | 'desc'; limit: number; offset: number },
): Promise<UserWithRelations[]> {
  const rows = await searchUsers(ex, q)
    .selectAll('u')
    .select((eb) => relationsOf(eb))
    .orderBy('u.created_at', q.direction)
    .orderBy('u.id', q.direction)
    .limit(q.limit)
    .offset(q.offset)
    .execute();
  return rows as unknown as UserWithRelations[];
}

/** A keyset position: the created_at (as Postgres text, microseconds kept) and id of the last row of a page. */
export interface UserKey {
  createdAt: string;
  id: string;
}

/**
 * GoTrue's keyset page (FindUsersInAudienceKeyset): users after `after` by (created_at, id) in `direction`, at
 * most `limit` rows, no COUNT and no OFFSET. The row comparison (not the OR form) lets Postgres seek the
 * (instance_id, aud, created_at, id) index straight to the cursor. Each row carries its own key, the timestamp as
 * text: a JS Date keeps milliseconds, created_at has microseconds, and a truncated key would repeat or skip rows.
 */
export async function listUsersAfter(
  ex: Executor,
  q: UserSearch & { direction: 'asc' | 'desc'; limit: number; after?: UserKey },
): Promise<(UserWithRelations & { key: UserKey })[]> {
  let query = searchUsers(ex, q);
  const after = q.after;
  if (after) {
    const op = sql.raw(q.direction === 'asc' ? '>' : '<');
    query = query.where(
      (eb) => sql<boolean>`(${eb.ref('u.created_at')}, ${eb.ref('u.id')}) ${op} (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const rows = await query
    .selectAll('u')
    .select((eb) => relationsOf(eb))
    .select(sql<string>`to_char(u.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('key_created_at'))
    .orderBy('u.created_at', q.direction)
    .orderBy('u.id', q.direction)
    .limit(q.limit)
    .execute();
  return rows.map(({ key_created_at, ...user }) => ({ ...(user as unknown as UserWithRelations), key: { createdAt: key_created_at, id: user.id } }));
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

/** A change to a user row that leaves the one-time token columns alone (domain/one-time-tokens writes those). */
export type UserChange = Omit<UserUpdate, (typeof TOKEN_COLUMNS)[OneTimeTokenType]['token']>;

/** Inserts the user and returns its row as stored (generated columns included). */
export async function insertUserReturning(ex: Executor, user: NewUser): Promise<UserRow> {
  return ex.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function updateUser(ex: Executor, userId: string, patch: UserChange): Promise<void> {
  await ex.updateTable('users').set(patch).where('id', '=', userId).execute();
}

/**
 * A sign-in's dates in one statement (a data-modifying CTE): `patch` on the user row, and last_sign_in_at on the
 * user's identities — all of them, or only `provider`'s — with updated_at too when `touchUpdatedAt`.
 */
export async function updateUserSignedIn(
  ex: Executor,
  userId: string,
  patch: UserChange,
  identities: { now: Date; provider?: string | undefined; touchUpdatedAt?: boolean },
): Promise<void> {
  const { now, provider, touchUpdatedAt } = identities;
  await ex
    .with('signed_in', (db) => {
      let q = db
        .updateTable('identities')
        .set({ last_sign_in_at: now, ...(touchUpdatedAt ? { updated_at: now } : {}) })
        .where('user_id', '=', userId);
      if (provider !== undefined) q = q.where('provider', '=', provider);
      return q.returning('id');
    })
    .updateTable('users')
    .set(patch)
    .where('id', '=', userId)
    .execute();
}

/** Whether another user (of any audience) holds this phone: phones are unique across the table. */
export async function phoneTakenByAnother(ex: Executor, phone: string, userId: string): Promise<boolean> {
  const row = await ex.selectFrom('users').select('id').where('phone', '=', phone).where('id', '!=', userId).executeTakeFirst();
  return row !== undefined;
}

/** Puts back a pending email change's columns, only while `pendingEmail` is still the pending address. */
export async function restorePendingEmailChange(
  ex: Executor,
  userId: string,
  pendingEmail: string,
  previous: Pick<UserRow, 'email_change' | 'email_change_confirm_status'>,
): Promise<void> {
  await ex.updateTable('users').set(previous).where('id', '=', userId).where('email_change', '=', pendingEmail).execute();
}

/** Puts back the pending phone, only while `pendingPhone` is still the pending phone. */
export async function restorePendingPhoneChange(ex: Executor, userId: string, pendingPhone: string, previous: Pick<UserRow, 'phone_change'>): Promise<void> {
  await ex.updateTable('users').set(previous).where('id', '=', userId).where('phone_change', '=', pendingPhone).execute();
}

/** Locks the user row until the transaction ends, so concurrent updates of one user serialise. */
export async function lockUser(ex: Executor, userId: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('id', '=', userId).forUpdate().executeTakeFirst();
}

/**
 * The users columns that mirror each one-time token type (GoTrue keeps a token there as well as in one_time_tokens)
 * and the *_sent_at that dates it. Only domain/one-time-tokens writes them, through the functions below.
 */
export const TOKEN_COLUMNS = {
  confirmation_token: { token: 'confirmation_token', sentAt: 'confirmation_sent_at' },
  recovery_token: { token: 'recovery_token', sentAt: 'recovery_sent_at' },
  email_change_token_new: { token: 'email_change_token_new', sentAt: 'email_change_sent_at' },
  email_change_token_current: { token: 'email_change_token_current', sentAt: 'email_change_sent_at' },
  phone_change_token: { token: 'phone_change_token', sentAt: 'phone_change_sent_at' },
  reauthentication_token: { token: 'reauthentication_token', sentAt: 'reauthentication_sent_at' },
} as const satisfies Record<OneTimeTokenType, { token: keyof UserRow; sentAt: keyof UserRow }>;

const ALL_TOKEN_TYPES = Object.keys(TOKEN_COLUMNS) as OneTimeTokenType[];

/** A user's column pair for a token type. */
export function tokenColumnsOf(user: UserRow, type: OneTimeTokenType): { token: string | null; sentAt: Date | null } {
  const c = TOKEN_COLUMNS[type];
  return { token: user[c.token], sentAt: user[c.sentAt] };
}

/**
 * Writes a token type's column, and its sent_at when given. With `ifToken`, only while the column still holds that
 * value (a newer token is left alone). Returns whether the user row was written.
 */
export async function writeTokenColumn(
  ex: Executor,
  userId: string,
  type: OneTimeTokenType,
  value: { token: string | null; sentAt?: Date | null },
  ifToken?: string,
): Promise<boolean> {
  const c = TOKEN_COLUMNS[type];
  const patch: UserUpdate = {};
  patch[c.token] = value.token;
  if (value.sentAt !== undefined) patch[c.sentAt] = value.sentAt;
  let q = ex.updateTable('users').set(patch).where('id', '=', userId);
  if (ifToken !== undefined) q = q.where(c.token, '=', ifToken);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Empties the user's token columns of these types (default: all) in one UPDATE (their sent_at stay). */
export async function clearTokenColumns(ex: Executor, userId: string, types: readonly OneTimeTokenType[] = ALL_TOKEN_TYPES): Promise<void> {
  const patch: UserUpdate = {};
  for (const type of types) patch[TOKEN_COLUMNS[type].token] = '';
  await ex.updateTable('users').set(patch).where('id', '=', userId).execute();
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

/** Deletes the user; identities, sessions (and their refresh tokens), factors and one-time tokens go by cascade. */
export async function deleteUserRow(ex: Executor, userId: string): Promise<boolean> {
  const r = await ex.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Deletes the user only while `column` still holds `token` (so a user someone else has since acted on stays), and
 * with it the flows and the audit rows (by id) that recorded its creation, in one statement; identities, tokens
 * and sessions go by cascade. True when the user was deleted.
 */
export async function deleteUserWhileTokenIs(
  ex: Executor,
  userId: string,
  column: 'confirmation_token' | 'recovery_token',
  token: string,
  auditIds: string[],
): Promise<boolean> {
  const row = await ex
    .with('gone', (db) => db.deleteFrom('users').where('id', '=', userId).where(column, '=', token).returning('id'))
    .with('flows', (db) =>
      db
        .deleteFrom('flow_state')
        .where((eb) => eb('user_id', 'in', eb.selectFrom('gone').select('gone.id')))
        .returning('id'),
    )
    .with('audits', (db) =>
      db
        .deleteFrom('audit_log_entries')
        .where((eb) => eb.and([auditIds.length > 0 ? eb('id', 'in', auditIds) : eb.lit(false), eb.exists(eb.selectFrom('gone').select('gone.id'))]))
        .returning('id'),
    )
    .selectFrom('gone')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) > 0;
}
