import { sql } from 'kysely';
import type { Executor } from '../database';
import type { OauthResourceRow, OauthResourceScope } from '../schema';
import type { EndingSession } from './oauth-logout';

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

/** One page, oldest first (a stable order for an admin's list), and how many there are in all. */
export async function listOauthResources(ex: Executor, page: { limit: number; offset: number }): Promise<{ rows: OauthResourceRow[]; total: number }> {
  const rows = await ex.selectFrom('oauth_resources').selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute();
  const { n } = await ex
    .selectFrom('oauth_resources')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return { rows, total: Number(n) };
}

/** Every resource's scopes, oldest resource first (discovery's scopes_supported). */
export async function listOauthResourceScopes(ex: Executor): Promise<OauthResourceScope[][]> {
  const rows = await ex.selectFrom('oauth_resources').select('scopes').orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => r.scopes);
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
 * they fail as invalid_grant) and its pending authorization requests. Undefined when it was not there; else the
 * ended sessions whose client has a back-channel logout URI (to be told after commit).
 */
export async function deleteOauthResource(ex: Executor, id: string): Promise<EndingSession[] | undefined> {
  const rows = await ex
    .with('gone', (db) => db.deleteFrom('oauth_resources').where('id', '=', id).returning('resource'))
    .with('sessions_gone', (db) =>
      db.deleteFrom('sessions').where('oauth_resource', 'in', db.selectFrom('gone').select('resource')).returning(['id', 'user_id', 'oauth_client_id']),
    )
    .with('authorizations_gone', (db) =>
      db.deleteFrom('oauth_authorizations').where('status', '=', 'pending').where('resource', 'in', db.selectFrom('gone').select('resource')).returning('id'),
    )
    .selectFrom('gone')
    .leftJoin('sessions_gone as sg', (j) => j.onTrue())
    .leftJoin('oauth_clients as c', (j) => j.onRef('c.id', '=', 'sg.oauth_client_id').on('c.backchannel_logout_uri', 'is not', null).on('c.deleted_at', 'is', null))
    .select(['gone.resource', 'sg.id as session_id', 'sg.user_id', 'c.id as client_id', 'c.backchannel_logout_uri'])
    .execute();
  if (rows.length === 0) return undefined;
  return rows.flatMap((r) =>
    r.session_id && r.user_id && r.client_id && r.backchannel_logout_uri ? [{ session_id: r.session_id, user_id: r.user_id, client_id: r.client_id, backchannel_logout_uri: r.backchannel_logout_uri }] : [],
  );
}
