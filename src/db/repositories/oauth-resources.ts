import { sql } from 'kysely';
import type { Executor } from '../database';
import type { OauthResourceRow, OauthResourceScope } from '../schema';

/** OAuth server resource servers (issue 15, item 4): one row per RFC 8707 resource with its custom scopes. */

export interface OauthResourceValues {
  resource: string;
  name: string;
  scopes: OauthResourceScope[];
  accessTokenTtl: number | null;
  signingAlg: string | null;
}

export async function insertOauthResource(ex: Executor, id: string, v: OauthResourceValues, now: Date): Promise<OauthResourceRow> {
  return ex
    .insertInto('oauth_resources')
    .values({ id, resource: v.resource, name: v.name, scopes: JSON.stringify(v.scopes), access_token_ttl: v.accessTokenTtl, signing_alg: v.signingAlg, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findOauthResourceById(ex: Executor, id: string): Promise<OauthResourceRow | undefined> {
  return ex.selectFrom('oauth_resources').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findOauthResourceByUri(ex: Executor, resource: string): Promise<OauthResourceRow | undefined> {
  return ex.selectFrom('oauth_resources').selectAll().where('resource', '=', resource).executeTakeFirst();
}

/** Oldest first (a stable order for an admin's list). */
export async function listOauthResources(ex: Executor): Promise<OauthResourceRow[]> {
  return ex.selectFrom('oauth_resources').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Which resources define any of these scope names (for "a resource's scope without `resource`"). */
export async function findResourcesWithScope(ex: Executor, names: string[]): Promise<Pick<OauthResourceRow, 'resource' | 'scopes'>[]> {
  if (names.length === 0) return [];
  // jsonb containment per name: scopes @> '[{"name": "..."}]'
  return ex
    .selectFrom('oauth_resources')
    .select(['resource', 'scopes'])
    .where((eb) => eb.or(names.map((n) => sql<boolean>`scopes @> ${JSON.stringify([{ name: n }])}::jsonb`)))
    .limit(10)
    .execute();
}

export async function updateOauthResource(ex: Executor, id: string, v: Omit<OauthResourceValues, 'resource'>, now: Date): Promise<OauthResourceRow | undefined> {
  return ex
    .updateTable('oauth_resources')
    .set({ name: v.name, scopes: JSON.stringify(v.scopes), access_token_ttl: v.accessTokenTtl, signing_alg: v.signingAlg, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Deletes a resource and, in the same statement, the sessions bound to it (their refresh tokens go by cascade, so
 * they fail as invalid_grant) and its pending authorization requests. False when it was not there.
 */
export async function deleteOauthResource(ex: Executor, id: string): Promise<boolean> {
  const gone = await ex
    .with('gone', (db) => db.deleteFrom('oauth_resources').where('id', '=', id).returning('resource'))
    .with('sessions_gone', (db) => db.deleteFrom('sessions').where('oauth_resource', 'in', db.selectFrom('gone').select('resource')).returning('id'))
    .with('authorizations_gone', (db) =>
      db.deleteFrom('oauth_authorizations').where('status', '=', 'pending').where('resource', 'in', db.selectFrom('gone').select('resource')).returning('id'),
    )
    .selectFrom('gone')
    .select('resource')
    .executeTakeFirst();
  return gone !== undefined;
}
