import type { Insertable } from 'kysely';
import type { Executor } from '../database';
import type { OauthAuthorizationRow, OauthAuthorizationsTable } from '../schema';

/** OAuth server authorization requests, from /oauth/authorize to the code's exchange. */

export async function insertOauthAuthorization(ex: Executor, row: Insertable<OauthAuthorizationsTable>): Promise<void> {
  await ex.insertInto('oauth_authorizations').values(row).execute();
}

/** The authorization by its public id, locked until the transaction ends (consent steps run one at a time). */
export async function lockOauthAuthorization(ex: Executor, authorizationId: string): Promise<OauthAuthorizationRow | undefined> {
  return ex.selectFrom('oauth_authorizations').selectAll().where('authorization_id', '=', authorizationId).forUpdate().executeTakeFirst();
}

/** The authorization by its public id, unlocked (an admin's read: GET /admin/oauth/authorizations/{id}). */
export async function findOauthAuthorization(ex: Executor, authorizationId: string): Promise<OauthAuthorizationRow | undefined> {
  return ex.selectFrom('oauth_authorizations').selectAll().where('authorization_id', '=', authorizationId).executeTakeFirst();
}

export async function setOauthAuthorizationUser(ex: Executor, id: string, userId: string): Promise<void> {
  await ex.updateTable('oauth_authorizations').set({ user_id: userId }).where('id', '=', id).execute();
}

export async function setOauthAuthorizationStatus(ex: Executor, id: string, status: OauthAuthorizationRow['status']): Promise<void> {
  await ex.updateTable('oauth_authorizations').set({ status }).where('id', '=', id).execute();
}

/** Approves: records the code's hash, the approval time, and how the user had signed in (the ID token's auth_time, amr, acr). */
export async function approveOauthAuthorization(
  ex: Executor,
  id: string,
  codeHash: string,
  now: Date,
  auth: { time: Date; methods: string; aal: string },
): Promise<void> {
  await ex
    .updateTable('oauth_authorizations')
    .set({ status: 'approved', authorization_code: codeHash, approved_at: now, auth_time: auth.time, auth_methods: auth.methods, auth_aal: auth.aal })
    .where('id', '=', id)
    .execute();
}

/**
 * Redeems a code: exactly one concurrent caller gets the row (house rule 5), the others none. The row stays, marked
 * with the session it was redeemed for, so a second use is recognised (findRedeemedAuthorization).
 */
export async function redeemOauthAuthorization(ex: Executor, codeHash: string, sessionId: string): Promise<OauthAuthorizationRow | undefined> {
  return ex
    .updateTable('oauth_authorizations')
    .set({ session_id: sessionId })
    .where('authorization_code', '=', codeHash)
    .where('status', '=', 'approved')
    .where('session_id', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** The authorization of a code as it stands (to tell an unknown code from a used or an expired one). */
export async function findOauthAuthorizationByCode(ex: Executor, codeHash: string): Promise<OauthAuthorizationRow | undefined> {
  return ex.selectFrom('oauth_authorizations').selectAll().where('authorization_code', '=', codeHash).executeTakeFirst();
}
