import type { ExpressionBuilder } from 'kysely';
import type { Executor } from '../database';
import type { Database } from '../schema';

/** Issue 15: what back-channel logout needs to know about sessions of OAuth clients that have a logout endpoint. */

export interface EndingSession {
  session_id: string;
  user_id: string;
  client_id: string;
  backchannel_logout_uri: string;
}

/** Which clients hear of a session's end: those (aliased `c`) with a back-channel logout URI, not deleted. */
export const hearsBackchannel = <DB extends Database & { c: Database['oauth_clients'] }>(eb: ExpressionBuilder<DB, 'c'>) =>
  eb.and([eb('c.backchannel_logout_uri', 'is not', null), eb('c.deleted_at', 'is', null)]);

/** A joined row as back-channel logout takes it. */
export const endingSession = <R extends Omit<EndingSession, 'backchannel_logout_uri'> & { backchannel_logout_uri: string | null }>(r: R): EndingSession => ({
  session_id: r.session_id,
  user_id: r.user_id,
  client_id: r.client_id,
  backchannel_logout_uri: r.backchannel_logout_uri ?? '',
});

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
    .where(hearsBackchannel);
  if (which.only !== undefined) q = q.where('s.id', '=', which.only);
  if (which.except !== undefined) q = q.where('s.id', '!=', which.except);
  return (await q.execute()).map(endingSession);
}

/** Ends one session if it is that user's and was issued to that client (refresh tokens, AMR claims by cascade). */
export async function deleteClientSession(ex: Executor, sessionId: string, userId: string, clientId: string): Promise<boolean> {
  const r = await ex.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).where('oauth_client_id', '=', clientId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
