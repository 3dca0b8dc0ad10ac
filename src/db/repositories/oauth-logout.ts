import type { Executor } from '../database';

/** Issue 15: what back-channel logout needs to know about sessions of OAuth clients that have a logout endpoint. */

export interface EndingSession {
  session_id: string;
  user_id: string;
  client_id: string;
  backchannel_logout_uri: string;
}

/**
 * The user's sessions held by clients with a back-channel logout URI, read before they are ended (`only` one session,
 * or all `except` one, or all).
 */
export async function listBackchannelSessions(ex: Executor, userId: string, which: { only?: string; except?: string } = {}): Promise<EndingSession[]> {
  let q = ex
    .selectFrom('sessions as s')
    .innerJoin('oauth_clients as c', 'c.id', 's.oauth_client_id')
    .select(['s.id as session_id', 's.user_id', 'c.id as client_id', 'c.backchannel_logout_uri'])
    .where('s.user_id', '=', userId)
    .where('c.backchannel_logout_uri', 'is not', null)
    .where('c.deleted_at', 'is', null);
  if (which.only !== undefined) q = q.where('s.id', '=', which.only);
  if (which.except !== undefined) q = q.where('s.id', '!=', which.except);
  const rows = await q.execute();
  return rows.map((r) => ({ ...r, backchannel_logout_uri: r.backchannel_logout_uri ?? '' }));
}

/** Ends one session if it is that user's and was issued to that client (refresh tokens, AMR claims by cascade). */
export async function deleteClientSession(ex: Executor, sessionId: string, userId: string, clientId: string): Promise<boolean> {
  const r = await ex.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).where('oauth_client_id', '=', clientId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
