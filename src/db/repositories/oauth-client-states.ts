import type { Executor } from '../database';

/** The server side of an upstream authorization request: its PKCE verifier and OIDC nonce. */
export async function insertOauthClientState(ex: Executor, s: { id: string; providerType: string; codeVerifier: string | null; nonce: string | null; now: Date }): Promise<void> {
  await ex
    .insertInto('oauth_client_states')
    .values({ id: s.id, provider_type: s.providerType, code_verifier: s.codeVerifier, nonce: s.nonce, created_at: s.now })
    .execute();
}

export async function findOauthClientState(ex: Executor, id: string) {
  return ex.selectFrom('oauth_client_states').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteOauthClientState(ex: Executor, id: string): Promise<void> {
  await ex.deleteFrom('oauth_client_states').where('id', '=', id).execute();
}

/** Links a flow to its client state (flow_state.oauth_client_state_id). */
export async function attachClientStateToFlow(ex: Executor, flowId: string, clientStateId: string): Promise<void> {
  await ex.updateTable('flow_state').set({ oauth_client_state_id: clientStateId }).where('id', '=', flowId).execute();
}
