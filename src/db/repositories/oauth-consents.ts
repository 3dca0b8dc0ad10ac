import type { Executor } from '../database';

/** OAuth server consents: what a user granted a client (one row per user and client). */

export async function findActiveConsent(ex: Executor, userId: string, clientId: string) {
  return ex
    .selectFrom('oauth_consents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Records a grant; a revoked grant comes back with these scopes, a live one keeps its scopes plus these. */
export async function upsertConsent(ex: Executor, c: { id: string; userId: string; clientId: string; scopes: string; now: Date }): Promise<void> {
  const existing = await ex.selectFrom('oauth_consents').select(['id', 'scopes', 'revoked_at']).where('user_id', '=', c.userId).where('client_id', '=', c.clientId).forUpdate().executeTakeFirst();
  if (!existing) {
    await ex.insertInto('oauth_consents').values({ id: c.id, user_id: c.userId, client_id: c.clientId, scopes: c.scopes, granted_at: c.now }).execute();
    return;
  }
  const scopes = existing.revoked_at ? c.scopes : [...new Set([...existing.scopes.split(/\s+/), ...c.scopes.split(/\s+/)])].filter(Boolean).join(' ');
  await ex.updateTable('oauth_consents').set({ scopes, granted_at: c.now, revoked_at: null }).where('id', '=', existing.id).execute();
}

/** A user's live grants with their clients (live clients only), newest first. */
export async function listUserGrants(ex: Executor, userId: string) {
  return ex
    .selectFrom('oauth_consents as g')
    .innerJoin('oauth_clients as c', 'c.id', 'g.client_id')
    .select(['g.client_id', 'g.scopes', 'g.granted_at', 'c.client_name', 'c.client_uri', 'c.logo_uri'])
    .where('g.user_id', '=', userId)
    .where('g.revoked_at', 'is', null)
    .where('c.deleted_at', 'is', null)
    .orderBy('g.granted_at', 'desc')
    .execute();
}

/**
 * Revokes a user's grant to a client and ends that client's sessions of the user (their refresh tokens go by
 * cascade), in one statement. False when there was no live grant.
 */
export async function revokeUserGrant(ex: Executor, userId: string, clientId: string, now: Date): Promise<boolean> {
  const row = await ex
    .with('sessions_gone', (db) => db.deleteFrom('sessions').where('user_id', '=', userId).where('oauth_client_id', '=', clientId).returning('id'))
    .updateTable('oauth_consents')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
