import type { Executor } from '../database';

/** OAuth server: the sessions OAuth clients hold, read and ended by revocation and introspection (issue 12). */

/** The session a refresh token belongs to, with whether the token is the live one. */
export async function findSessionByRefreshSelector(ex: Executor, selector: string) {
  return ex
    .selectFrom('refresh_tokens as rt')
    .innerJoin('sessions as s', 's.id', 'rt.session_id')
    .select(['s.id as session_id', 's.user_id', 's.oauth_client_id', 's.scopes', 's.oauth_resource', 's.not_after', 's.created_at', 'rt.revoked'])
    .where('rt.token', '=', selector)
    .executeTakeFirst();
}

export async function findOauthSession(ex: Executor, sessionId: string) {
  return ex.selectFrom('sessions').select(['id', 'user_id', 'oauth_client_id', 'scopes', 'oauth_resource', 'aal']).where('id', '=', sessionId).executeTakeFirst();
}

/** Ends one session (its refresh tokens and AMR claims go by cascade). */
export async function deleteSessionById(ex: Executor, sessionId: string): Promise<void> {
  await ex.deleteFrom('sessions').where('id', '=', sessionId).execute();
}
