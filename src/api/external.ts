import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { toApiError } from '../http/error-handler';
import { optString } from '../http/parse';
import { requestMeta } from '../http/request-meta';
import { startAuthorization } from '../services/external-auth';
import { handleCallback, type CallbackInput } from '../services/external-callback';
import { parsePkceParams } from '../domain/flow-state';
import { resolveRedirectTo } from '../services/redirect-url';
import { redirectWithCode, redirectWithError, redirectWithFragment } from './external-redirect';

/** Query keys /authorize reads itself, and OAuth parameters a caller may not override (GoTrue keeps nonce). */
const RESERVED = new Set([
  'provider', 'scopes', 'redirect_to', 'code_challenge', 'code_challenge_method', 'invite_token', 'skip_http_redirect', 'flow_type',
  'client_id', 'client_secret', 'redirect_uri', 'response_type', 'response_mode', 'state', 'scope', 'code_verifier', 'apikey',
]);

const AuthorizeQuery = z.object({
  provider: z.string({ error: 'Unsupported provider: missing provider' }).min(1, 'Unsupported provider: missing provider').max(100),
  scopes: optString(),
  redirect_to: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
  invite_token: optString(),
  skip_http_redirect: optString(),
});

/** Parses the authorize query; shared by /authorize and /user/identities/authorize. */
export function parseAuthorizeQuery(deps: Deps, req: Request) {
  const q = AuthorizeQuery.parse(req.query);
  const extraParams: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (!RESERVED.has(k) && typeof v === 'string' && k.length <= 64 && v.length <= 1024) extraParams[k] = v;
  }
  return {
    provider: q.provider,
    scopes: q.scopes,
    redirectTo: resolveRedirectTo(deps.config, q.redirect_to ?? req.header('redirect_to'), req.header('referer')),
    pkce: parsePkceParams(q.code_challenge, q.code_challenge_method),
    inviteToken: q.invite_token,
    skipHttpRedirect: q.skip_http_redirect === 'true',
    extraParams,
  };
}

/** GET /authorize → 302 to the provider (or {url} with skip_http_redirect=true). */
export const authorize = (deps: Deps): RequestHandler => async (req, res) => {
  const q = parseAuthorizeQuery(deps, req);
  let url: string;
  try {
    ({ url } = await startAuthorization(deps, { ...q, linkingTargetId: undefined }));
  } catch (err) {
    // The browser navigated here: a provider that is down ends on the app with an error, not on a JSON page.
    const e = toApiError(err);
    if (e.code === 'provider_unavailable') return redirectWithError(res, q.redirectTo, e);
    throw e;
  }
  if (q.skipHttpRedirect) res.json({ url });
  else res.redirect(302, url);
};

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
export const callback = (deps: Deps): RequestHandler => async (req: Request, res: Response) => {
  const answer = await handleCallback(deps, requestMeta(req, deps.config), callbackInput(req));
  if (answer.kind === 'code') return redirectWithCode(res, answer.target, answer.authCode);
  if (answer.kind === 'fragment') return redirectWithFragment(res, answer.target, answer.params);
  const e = toApiError(answer.error);
  if (e.status >= 500) deps.logger.error({ err: e.cause ?? e, request_id: req.id }, 'oauth callback failed');
  else if (e.cause) deps.logger.debug({ err: e.cause, request_id: req.id }, e.message);
  redirectWithError(res, answer.target, e, answer.status);
};
