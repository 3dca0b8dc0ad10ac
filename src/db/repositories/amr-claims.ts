import type { Executor } from '../database';

export interface NewAmrClaim {
  id: string;
  sessionId: string;
  method: string;
  now: Date;
}

/** The mfa_amr_claims row of an authentication method used in a session. */
export const amrClaimRow = (c: NewAmrClaim) => ({
  id: c.id,
  session_id: c.sessionId,
  authentication_method: c.method,
  created_at: c.now,
  updated_at: c.now,
});

/** Records (or refreshes the time of) an authentication method used in a session. */
export async function upsertAmrClaim(ex: Executor, c: NewAmrClaim): Promise<void> {
  await ex
    .insertInto('mfa_amr_claims')
    .values(amrClaimRow(c))
    .onConflict((oc) => oc.columns(['session_id', 'authentication_method']).doUpdateSet({ updated_at: c.now }))
    .execute();
}

/** A session's AMR claims, newest first. */
export async function listAmrClaims(ex: Executor, sessionId: string): Promise<{ authentication_method: string; updated_at: Date }[]> {
  return ex
    .selectFrom('mfa_amr_claims')
    .select(['authentication_method', 'updated_at'])
    .where('session_id', '=', sessionId)
    .orderBy('updated_at', 'desc')
    .execute();
}
