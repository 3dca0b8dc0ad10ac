import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { badRequest, type ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { toApiError } from '../http/error-handler';
import { optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { verifyOtp, verifyTokenHash, type VerifyOutcome } from '../services/verify';
import { tokenResponseJson } from './shapes';

const VerifyBody = z.object({
  type: optString(),
  token: optString(),
  token_hash: optString(),
  email: optString(),
  phone: optString(),
  redirect_to: optString(),
});

/** POST /verify {type, token, email|phone} or {type, token_hash} → token response (or the first-leg message). */
export const verifyPost = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, VerifyBody);
  if (!body.type) throw badRequest(ErrorCodes.validationFailed, 'Verify requires a verification type');
  const token = body.token ?? '';
  const tokenHash = body.token_hash ?? '';
  if ((token === '') === (tokenHash === '')) throw badRequest(ErrorCodes.validationFailed, 'Verify requires either a token or a token hash');
  const meta = requestMeta(req, deps.config);
  let outcome: VerifyOutcome;
  if (token !== '') {
    outcome = await verifyOtp(deps, meta, { type: body.type, token, email: body.email, phone: body.phone });
  } else {
    if (body.email || body.phone || body.redirect_to) throw badRequest(ErrorCodes.validationFailed, 'Only the token_hash and type should be provided');
    outcome = await verifyTokenHash(deps, meta, body.type, tokenHash, false);
  }
  if (outcome.kind === 'pending') {
    res.json({ msg: outcome.message, code: '200' });
    return;
  }
  if (outcome.kind === 'code') throw new Error('POST /verify never answers with a PKCE code');
  res.json(tokenResponseJson(outcome.tokens, outcome.user));
};

/** GoTrue's OAuth-style error names by status, for error redirects. */
const OAUTH_ERROR: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized_client',
  403: 'access_denied',
  500: 'server_error',
  503: 'temporarily_unavailable',
};

/** Sorted, URL-encoded parameters (Go's url.Values.Encode), always with `sb`. */
function encode(params: Record<string, string>): string {
  const q = new URLSearchParams({ ...params, sb: '' });
  q.sort();
  return q.toString();
}

function withFragment(target: string, params: Record<string, string>, alsoQuery?: Record<string, string>): string {
  const u = new URL(target);
  if (alsoQuery) {
    for (const [k, v] of Object.entries(alsoQuery)) u.searchParams.set(k, v);
    u.searchParams.set('sb', '');
    u.searchParams.sort();
  }
  u.hash = encode(params);
  return u.toString();
}

/** The message a bad link gets (GoTrue words it differently from POST's "Token has expired or is invalid"). */
const LINK_INVALID = 'Email link is invalid or has expired';

function errorRedirect(target: string, err: ApiError, pkce: boolean): string {
  const description = err.code === ErrorCodes.otpExpired ? LINK_INVALID : err.message;
  const params: Record<string, string> = { error_code: err.code, error_description: description };
  const name = OAUTH_ERROR[err.status];
  if (name) params.error = name;
  return withFragment(target, params, pkce ? params : undefined);
}

const queryString = (req: Request, key: string): string => {
  const v = req.query[key];
  return typeof v === 'string' ? v : '';
};

/**
 * GET /verify?token=&type=&redirect_to= — the link in a mail. Always a 303: an implicit session in the redirect's
 * fragment, `?code=` for a `pkce_` token, the first-leg message of a secure email change, or the error in the
 * fragment (and, for PKCE, in the query too).
 */
export const verifyGet = (deps: Deps): RequestHandler => async (req, res) => {
  const target = requestRedirectTo(req, deps.config);
  const token = queryString(req, 'token');
  const type = queryString(req, 'type');
  const pkce = token.startsWith('pkce_');
  let location: string;
  try {
    if (type === '') throw badRequest(ErrorCodes.validationFailed, 'Verify requires a verification type');
    if (token === '') throw badRequest(ErrorCodes.validationFailed, 'Verify requires a token or a token hash');
    const outcome = await verifyTokenHash(deps, requestMeta(req, deps.config), type, token, true);
    if (outcome.kind === 'code') {
      const u = new URL(target);
      u.searchParams.set('code', outcome.authCode);
      location = u.toString();
    } else if (outcome.kind === 'pending') {
      location = withFragment(target, { message: outcome.message }, pkce ? { message: outcome.message } : undefined);
    } else {
      const t = outcome.tokens;
      location = withFragment(target, {
        access_token: t.accessToken,
        expires_at: String(t.expiresAt),
        expires_in: String(t.expiresIn),
        refresh_token: t.refreshToken,
        token_type: 'bearer',
        type,
      });
    }
  } catch (err) {
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) deps.logger.error({ err: apiErr.cause ?? apiErr, request_id: req.id }, 'verify failed');
    location = errorRedirect(target, apiErr, pkce);
  }
  res.redirect(303, location);
};
