import type { Deps } from '../deps';
import type { RequestMeta } from '../domain/request-meta';
import { exchangeCallback } from '../external/callback';
import { callbackTarget, completeCallback, loadCallbackFlow, providerCallbackError, type CallbackFlow } from './external-auth';
import { providerApiError } from './provider-errors';

/** The provider's answer at /callback: every string parameter of the query (GET) or the form body (form_post). */
export interface CallbackInput {
  state: string | undefined;
  /** The provider's refusal (`error`, `error_description`), when it sent one instead of a code. */
  error: string | undefined;
  errorDescription: string | undefined;
  /** All parameters, for the code exchange (code, iss, id_token) and the profile (Apple's `user`). */
  params: URLSearchParams;
}

/** Where the browser goes next. An error is still raw (the caller encodes and logs it); its status is 302 or 303. */
export type CallbackRedirect =
  | { kind: 'error'; target: string; status: 302 | 303; error: unknown }
  | { kind: 'code'; target: string; authCode: string }
  | { kind: 'fragment'; target: string; params: Record<string, string> };

/**
 * GET|POST /callback as one flow, and it never throws: the state is resolved first (a missing, unknown, used or
 * expired state → 303 to SITE_URL, the only target that can be trusted without a flow); then the provider's error,
 * the code exchange and profile (src/external), the account decision and the session or PKCE code (one
 * transaction, `completeCallback`); anything failing after the flow is known → 302 to the flow's target.
 */
export async function handleCallback(deps: Deps, meta: RequestMeta, input: CallbackInput): Promise<CallbackRedirect> {
  let cf: CallbackFlow;
  try {
    cf = await loadCallbackFlow(deps, input.state);
  } catch (error) {
    return { kind: 'error', target: deps.config.siteUrl, status: 303, error };
  }
  const target = callbackTarget(deps, cf.flow);
  try {
    if (input.error) throw providerCallbackError(input.error, input.errorDescription);
    const learned = await exchangeCallback(deps.external, cf.provider, cf.checks, input.params).catch((err: unknown) => {
      throw providerApiError(err, cf.provider.name);
    });
    const outcome = await completeCallback(deps, meta, cf, learned);
    if (outcome.kind === 'code') return { kind: 'code', target, authCode: outcome.authCode };
    return {
      kind: 'fragment',
      target,
      params: {
        access_token: outcome.tokens.accessToken,
        expires_at: String(outcome.tokens.expiresAt),
        expires_in: String(outcome.tokens.expiresIn),
        refresh_token: outcome.tokens.refreshToken,
        token_type: 'bearer',
        provider_token: outcome.providerToken,
        ...(outcome.providerRefreshToken ? { provider_refresh_token: outcome.providerRefreshToken } : {}),
      },
    };
  } catch (error) {
    return { kind: 'error', target, status: 302, error };
  }
}
