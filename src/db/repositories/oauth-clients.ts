import type { Executor } from '../database';
import type { OauthClientRow, OauthClientsTable } from '../schema';
import type { Insertable, Updateable } from 'kysely';

/** OAuth server clients (apps that sign in with us). Soft-deleted rows (deleted_at) are never found. */

export async function insertOauthClient(ex: Executor, row: Insertable<OauthClientsTable>): Promise<OauthClientRow> {
  return ex.insertInto('oauth_clients').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findOauthClient(ex: Executor, id: string): Promise<OauthClientRow | undefined> {
  return ex.selectFrom('oauth_clients').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A live client known by its Client ID Metadata Document URL (issue 15, MCP). */
export async function findOauthClientByMetadataUrl(ex: Executor, url: string): Promise<OauthClientRow | undefined> {
  return ex.selectFrom('oauth_clients').selectAll().where('metadata_document_url', '=', url).where('deleted_at', 'is', null).executeTakeFirst();
}

/**
 * Stores what a Client ID Metadata Document says, in one statement: a new row for a URL not seen before, else the
 * live row of that URL updated in place (its id, and so its sessions and grants, stay). Two first fetches racing
 * end in one row.
 */
export async function upsertMetadataClient(ex: Executor, row: Insertable<OauthClientsTable> & { metadata_document_url: string }): Promise<OauthClientRow> {
  const { id: _id, created_at: _created, ...set } = row;
  return ex
    .insertInto('oauth_clients')
    .values(row)
    .onConflict((oc) => oc.column('metadata_document_url').where('deleted_at', 'is', null).where('metadata_document_url', 'is not', null).doUpdateSet(set))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether any client was ever registered (deleted ones count): the first run's example clients are made only once. */
export async function anyOauthClientEver(ex: Executor): Promise<boolean> {
  return (await ex.selectFrom('oauth_clients').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Newest first, with the total, for GET /admin/oauth/clients. */
export async function listOauthClients(ex: Executor, page: { limit: number; offset: number }): Promise<{ rows: OauthClientRow[]; total: number }> {
  const rows = await ex
    .selectFrom('oauth_clients')
    .selectAll()
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await ex
    .selectFrom('oauth_clients')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { rows, total: Number(n) };
}

export async function updateOauthClient(ex: Executor, id: string, set: Updateable<OauthClientsTable>): Promise<OauthClientRow | undefined> {
  return ex.updateTable('oauth_clients').set(set).where('id', '=', id).where('deleted_at', 'is', null).returningAll().executeTakeFirst();
}

/**
 * Soft-deletes a client (GoTrue keeps the row) and ends everything it holds in one statement: its sessions (their
 * refresh tokens go by cascade), its pending authorizations and its users' consents. False when it was not there.
 */
export async function softDeleteOauthClient(ex: Executor, id: string, now: Date): Promise<boolean> {
  const deleted = await ex
    .with('sessions_gone', (db) => db.deleteFrom('sessions').where('oauth_client_id', '=', id).returning('id'))
    .with('authorizations_gone', (db) => db.deleteFrom('oauth_authorizations').where('client_id', '=', id).where('status', '=', 'pending').returning('id'))
    .with('consents_revoked', (db) => db.updateTable('oauth_consents').set({ revoked_at: now }).where('client_id', '=', id).where('revoked_at', 'is', null).returning('id'))
    .updateTable('oauth_clients')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}
