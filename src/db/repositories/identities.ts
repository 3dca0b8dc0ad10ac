import type { Executor } from '../database';

export interface NewIdentity {
  providerId: string;
  userId: string;
  provider: string;
  identityData: Record<string, unknown>;
  now: Date;
  lastSignInAt?: Date | null;
}

export async function insertIdentity(ex: Executor, i: NewIdentity): Promise<void> {
  await insertIdentityReturningId(ex, i);
}

export type IdentityRow = Awaited<ReturnType<typeof findIdentity>>;

/** The identity for a provider subject (unique per provider). */
export async function findIdentity(ex: Executor, providerId: string, provider: string) {
  return ex.selectFrom('identities').selectAll().where('provider_id', '=', providerId).where('provider', '=', provider).executeTakeFirst();
}

/** Identities whose (lower-cased) email is one of these. */
export async function findIdentitiesByEmails(ex: Executor, emails: string[]) {
  if (emails.length === 0) return [];
  return ex.selectFrom('identities').selectAll().where('email', 'in', emails).execute();
}

/** A user's identities, oldest first. */
export async function listUserIdentities(ex: Executor, userId: string) {
  return ex.selectFrom('identities').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
}

const identityRow = (i: NewIdentity) => ({
  provider_id: i.providerId,
  user_id: i.userId,
  provider: i.provider,
  identity_data: JSON.stringify(i.identityData),
  last_sign_in_at: i.lastSignInAt ?? null,
  created_at: i.now,
  updated_at: i.now,
});

export async function insertIdentityReturningId(ex: Executor, i: NewIdentity): Promise<string> {
  const row = await ex.insertInto('identities').values(identityRow(i)).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** Inserts identities in one statement; their ids, in the order given. */
export async function insertIdentitiesReturningIds(ex: Executor, identities: NewIdentity[]): Promise<string[]> {
  if (identities.length === 0) return [];
  const rows = await ex.insertInto('identities').values(identities.map(identityRow)).returning(['id', 'provider']).execute();
  // RETURNING follows the VALUES order in practice, but Postgres does not promise it: match by provider.
  return identities.map((i) => rows.find((r) => r.provider === i.provider)!.id);
}

export async function updateIdentityData(ex: Executor, id: string, identityData: Record<string, unknown>, now: Date): Promise<void> {
  await ex.updateTable('identities').set({ identity_data: JSON.stringify(identityData), last_sign_in_at: now, updated_at: now }).where('id', '=', id).execute();
}

export async function deleteIdentities(ex: Executor, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await ex.deleteFrom('identities').where('id', 'in', ids).execute();
}

/** The user's identity for a provider, if any. */
export async function findIdentityOfUser(ex: Executor, userId: string, provider: string) {
  return ex.selectFrom('identities').selectAll().where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst();
}

export async function setIdentityData(ex: Executor, identityId: string, identityData: Record<string, unknown>, now: Date): Promise<void> {
  await ex
    .updateTable('identities')
    .set({ identity_data: JSON.stringify(identityData), updated_at: now })
    .where('id', '=', identityId)
    .execute();
}

/** The distinct providers of the user's identities, oldest identity first (app_metadata.providers). */
export async function providersOfUser(ex: Executor, userId: string): Promise<string[]> {
  const rows = await ex.selectFrom('identities').select(['provider', 'created_at']).where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
  return [...new Set(rows.map((r) => r.provider))];
}

export async function listIdentitiesOfUser(ex: Executor, userId: string) {
  return ex.selectFrom('identities').select(['id', 'provider', 'provider_id']).where('user_id', '=', userId).execute();
}

/** Replaces an identity's data and provider subject (soft delete keeps the row, not what identifies a person). */
export async function scrubIdentity(ex: Executor, identityId: string, providerId: string, now: Date): Promise<void> {
  await ex
    .updateTable('identities')
    .set({ identity_data: JSON.stringify({}), provider_id: providerId, updated_at: now })
    .where('id', '=', identityId)
    .execute();
}
