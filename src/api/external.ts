import type { Request } from 'express';
import { z } from 'zod';
import { ErrorCodes } from '../errors/codes';
import { authenticateCallback } from '../external/strategy';
import { endpoint } from '../http/endpoint';
import { toApiError } from '../http/error-handler';
import { anyQueryValue, optString, safeString } from '../http/fields';
import { redirectWithError, redirectWithParams } from '../http/redirect';
import { callbackTarget, completeCallback, loadCallbackFlow, providerCallbackError, startAuthorization, type CallbackFlow } from '../services/external-auth';
import { parsePkceParams } from '../services/flow-state';
import { providerApiError } from '../services/provider-errors';

/** Query keys /authorize reads itself, and OAuth parameters a caller may not override (GoTrue keeps nonce). */
const RESERVED = new Set([
  'provider', 'scopes', 'redirect_to', 'code_challenge', 'code_challenge_method', 'invite_token', 'skip_http_redirect', 'flow_type',
  'client_id', 'client_secret', 'redirect_uri', 'response_type', 'response_mode', 'state', 'scope', 'code_verifier', 'apikey',
]);

const MISSING_PROVIDER = 'Unsupported provider: missing provider';

/** The authorize query; shared by /authorize and /user/identities/authorize. Other parameters go to the provider. */
export const AuthorizeQuery = z
  .object({
    provider: safeString(100, MISSING_PROVIDER).min(1, MISSING_PROVIDER),
    scopes: optString(),
    redirect_to: optString(),
    code_challenge: optString(),
    code_challenge_method: optString(),
    invite_token: optString(),
    skip_http_redirect: optString(),
  })
  .catchall(anyQueryValue());

/** The authorization a parsed query asks for (redirect_to already resolved by endpoint()). */
export function authorizeInput(q: z.output<typeof AuthorizeQuery>, redirectTo: string) {
  const extraParams: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!RESERVED.has(k) && typeof v === 'string' && k.length <= 64 && v.length <= 1024) extraParams[k] = v;
  }
  return {
    provider: q.provider,
    scopes: q.scopes,
    redirectTo,
    pkce: parsePkceParams(q.code_challenge, q.code_challenge_method),
    inviteToken: q.invite_token,
    skipHttpRedirect: q.skip_http_redirect === 'true',
    extraParams,
  };
}

/** GET /authorize → 302 to the provider (or {url} with skip_http_redirect=true). */
export const authorize = endpoint({ auth: 'none', query: AuthorizeQuery, redirect: true }, async ({ query, redirectTo, req, res }, deps) => {
  const q = authorizeInput(query, redirectTo);
  let url: string;
  try {
    ({ url } = await startAuthorization(deps, { ...q, linkingTargetId: undefined }));
  } catch (err) {
    // The browser navigated here: a provider that is down ends on the app with an error, not on a JSON page.
    const e = toApiError(err);
    if (e.code === ErrorCodes.providerUnavailable) return redirectWithError(req, res, deps.logger, q.redirectTo, e, { in: 'both', unmapped: 'server_error' });
    throw e;
  }
  if (q.skipHttpRedirect) return { url };
  res.redirect(302, url);
});

/** Callback parameters: the query (GET) or the form body (POST, Apple's form_post). */
function callbackParams(req: Request): URLSearchParams {
  const source = req.method === 'POST' && req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(source)) if (typeof v === 'string' && v.length <= 8192) params.set(k, v);
  return params;
}

/**
 * GET|POST /callback: the provider's answer. State problems → 303 to SITE_URL with the error; anything after the
 * flow is known → 302 to its target with error, error_code, error_description (never an error page).
 */
export const callback = endpoint({ auth: 'none' }, async (ctx, deps) => {
  const { req, res } = ctx;
  const params = callbackParams(req);
  const fail = (target: string, err: unknown, status: 302 | 303 = 302) =>
    redirectWithError(req, res, deps.logger, target, toApiError(err), { in: 'both', status, unmapped: 'server_error' });
  let cf: CallbackFlow;
  try {
    cf = await loadCallbackFlow(deps, params.get('state') ?? undefined);
  } catch (err) {
    // Without a known flow there is no trusted target: SITE_URL, with a 303 as GoTrue answers bad states.
    return fail(deps.config.siteUrl, err, 303);
  }
  const target = callbackTarget(deps, cf.flow);
  try {
    const error = params.get('error');
    if (error) throw providerCallbackError(error, params.get('error_description') ?? undefined);
    const learned = await authenticateCallback(deps.external, cf.provider, req, res, cf.checks, params).catch((err: unknown) => {
      throw providerApiError(err, cf.provider.name);
    });
    const outcome = await completeCallback(deps, ctx.meta, cf, learned);
    if (outcome.kind === 'code') return redirectWithParams(res, target, { query: { code: outcome.authCode } });
    redirectWithParams(res, target, {
      fragment: {
        access_token: outcome.tokens.accessToken,
        expires_at: String(outcome.tokens.expiresAt),
        expires_in: String(outcome.tokens.expiresIn),
        refresh_token: outcome.tokens.refreshToken,
        token_type: 'bearer',
        provider_token: outcome.providerToken,
        ...(outcome.providerRefreshToken ? { provider_refresh_token: outcome.providerRefreshToken } : {}),
        sb: '',
      },
    });
  } catch (err) {
    fail(target, err);
  }
});
