import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database';
import type { CustomOauthProviderRow, CustomOauthProvidersTable } from '../schema';

export async function listCustomProviders(ex: Executor, type?: 'oauth2' | 'oidc'): Promise<CustomOauthProviderRow[]> {
  let q = ex.selectFrom('custom_oauth_providers').selectAll().orderBy('created_at').orderBy('identifier');
  if (type) q = q.where('provider_type', '=', type);
  return q.execute();
}

export async function countCustomProviders(ex: Executor): Promise<number> {
  const r = await ex.selectFrom('custom_oauth_providers').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** By UUID or by identifier (`custom:acme`). */
export async function findCustomProvider(ex: Executor, idOrIdentifier: string, isUuid: boolean): Promise<CustomOauthProviderRow | undefined> {
  return ex
    .selectFrom('custom_oauth_providers')
    .selectAll()
    .where(isUuid ? 'id' : 'identifier', '=', idOrIdentifier)
    .executeTakeFirst();
}

export async function insertCustomProvider(ex: Executor, row: Insertable<CustomOauthProvidersTable>): Promise<CustomOauthProviderRow> {
  return ex.insertInto('custom_oauth_providers').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateCustomProvider(ex: Executor, id: string, patch: Updateable<CustomOauthProvidersTable>): Promise<CustomOauthProviderRow | undefined> {
  return ex.updateTable('custom_oauth_providers').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteCustomProvider(ex: Executor, id: string): Promise<boolean> {
  const r = await ex.deleteFrom('custom_oauth_providers').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
