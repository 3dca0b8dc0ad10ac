import type { Executor } from '../database';

/** Records (or refreshes the time of) an authentication method used in a session. */
export async function upsertAmrClaim(
  ex: Executor,
  c: { id: string; sessionId: string; method: string; now: Date },
): Promise<void> {
  await ex
    .insertInto('mfa_amr_claims')
    .values({ id: c.id, session_id: c.sessionId, authentication_method: c.method, created_at: c.now, updated_at: c.now })
    .onConflict((oc) => oc.columns(['session_id', 'authentication_method']).doUpdateSet({ updated_at: c.now }))
    .execute();
}

