import type { ExternalProviders } from './registry';
import { ProviderError, type ExternalProvider, type ProviderTokenSet, type ProviderUserData } from './types';

/** What the server kept of the authorization request (flow_state + oauth_client_states), checked on callback. */
export interface CallbackChecks {
  state: string;
  codeVerifier?: string;
  nonce?: string;
}

export interface CallbackResult {
  userData: ProviderUserData;
  tokens: ProviderTokenSet;
}

/**
 * The callback leg of any provider: exchanges the code through its protocol client (with the server-side PKCE
 * verifier and nonce; OIDC also checks state and the id_token), then maps the profile. `checks.state` is the
 * flow_state id the caller already resolved. Fails with a ProviderError only.
 */
export async function exchangeCallback(
  registry: ExternalProviders,
  provider: ExternalProvider,
  checks: CallbackChecks,
  params: URLSearchParams,
): Promise<CallbackResult> {
  const { tokens, claims } = await registry.protocol(provider).exchangeCode({
    params,
    state: checks.state,
    codeVerifier: checks.codeVerifier,
    nonce: checks.nonce,
  });
  try {
    const userData = await provider.userData(registry.profileContext(provider, tokens, claims, params));
    return { userData, tokens };
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError('invalid_response', (err as Error).message, { cause: err });
  }
}
