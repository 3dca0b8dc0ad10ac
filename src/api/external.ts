import type { Request } from 'express';
import { z } from 'zod';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { toApiError } from '../http/error-handler';
import { anyQueryValue, optString, safeString } from '../http/fields';
import { redirectWithError, redirectWithParams } from '../http/redirect';
import type { RequestMeta } from '../domain/request-meta';
import { startAuthorization } from '../services/external-auth';
import { handleCallback, type CallbackInput } from '../services/external-callback';
import { parsePkceParams } from '../domain/flow-state';

/** Query keys /authorize reads itself, and OAuth parameters a caller may not override (GoTrue keeps nonce). */
const RESERVED = new Set([
  'provider', 'scopes', 'redirect_to', 'code_challenge', 'code_challenge_method', 'invite_token', 'skip_http_redirect', 'flow_type',
  'client_id', 'client_secret', 'redirect_uri', 'response_type', 'response_mode', 'state', 'scope', 'code_verifier', 'apikey',
  // Authorization-response parameters: meaningless in a request, and an upstream page showing them would mislead.
  'code', 'iss', 'error', 'error_description', 'error_uri', 'error_code',
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
function callbackInput(req: Request): CallbackInput {
  const source = req.method === 'POST' && req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(source)) if (typeof v === 'string' && v.length <= 8192) params.set(k, v);
  const get = (key: string) => params.get(key) ?? undefined;
  return { state: get('state'), error: get('error'), errorDescription: get('error_description'), params };
}

/**
 * GET|POST /callback: the provider's answer. State problems → 303 to SITE_URL with the error; anything after the
 * flow is known → 302 to its target with error, error_code, error_description (never an error page).
 */
export const callback = endpoint({ auth: 'none' }, async (ctx, deps) => {
  const { req, res } = ctx;
  const fail = (target: string, err: unknown, status: 302 | 303 = 302) =>
    redirectWithError(req, res, deps.logger, target, toApiError(err), { in: 'both', status, unmapped: 'server_error' });
  let meta: RequestMeta;
  try {
    meta = ctx.meta;
  } catch (err) {
    // A request meta the edge refuses (an X-JWT-AUD too long): no flow is trusted yet, so SITE_URL with a 303.
    return fail(deps.config.siteUrl, err, 303);
  }
  const answer = await handleCallback(deps, meta, callbackInput(req));
  if (answer.kind === 'code') return redirectWithParams(res, answer.target, { query: { code: answer.authCode } });
  if (answer.kind === 'fragment') return redirectWithParams(res, answer.target, { fragment: { ...answer.params, sb: '' } });
  fail(answer.target, answer.error, answer.status);
});
