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

/** Newest first, with the total, for GET /admin/oauth/clients. */
/** Whether any client was ever registered (deleted ones count): the first run's example clients are made only once. */
export async function anyOauthClientEver(ex: Executor): Promise<boolean> {
  return (await ex.selectFrom('oauth_clients').select('id').limit(1).executeTakeFirst()) !== undefined;
}

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
