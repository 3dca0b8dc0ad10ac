import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { toApiError } from '../http/error-handler';
import { email, optString, phone, queryString, redirectTo } from '../http/fields';
import { redirectWithError, redirectWithParams } from '../http/redirect';
import { verifyOtp, verifyTokenHash, type VerifyOutcome } from '../services/verify';
import { tokenResponseJson } from './shapes';

const VerifyBody = z.object({
  type: optString(),
  token: optString(),
  token_hash: optString(),
  email: email(),
  phone: phone(),
  redirect_to: redirectTo(),
});

/** POST /verify {type, token, email|phone} or {type, token_hash} → token response (or the first-leg message). */
export const verifyPost = endpoint({ auth: 'none', body: VerifyBody }, async ({ body, meta }, deps) => {
  if (!body.type) throw badRequest(ErrorCodes.validationFailed, 'Verify requires a verification type');
  const token = body.token ?? '';
  const tokenHash = body.token_hash ?? '';
  if ((token === '') === (tokenHash === '')) throw badRequest(ErrorCodes.validationFailed, 'Verify requires either a token or a token hash');
  let outcome: VerifyOutcome;
  if (token !== '') {
    outcome = await verifyOtp(deps, meta, { type: body.type, token, email: body.email, phone: body.phone });
  } else {
    if (body.email || body.phone || body.redirect_to) throw badRequest(ErrorCodes.validationFailed, 'Only the token_hash and type should be provided');
    outcome = await verifyTokenHash(deps, meta, body.type, tokenHash, false);
  }
  if (outcome.kind === 'pending') return { msg: outcome.message, code: '200' };
  if (outcome.kind === 'code') throw new Error('POST /verify never answers with a PKCE code');
  return tokenResponseJson(outcome.tokens, outcome.user);
});

/** The message a bad link gets (GoTrue words it differently from POST's "Token has expired or is invalid"). */
const LINK_INVALID = 'Email link is invalid or has expired';

/** Read inside the handler, so a bad query also ends on the app with the error rather than on a JSON page. */
const VerifyQuery = z.object({ token: queryString(), type: queryString() });

/**
 * GET /verify?token=&type=&redirect_to= — the link in a mail. Always a 303: an implicit session in the redirect's
 * fragment, `?code=` for a `pkce_` token, the first-leg message of a secure email change, or the error in the
 * fragment (and, for PKCE, in the query too).
 */
export const verifyGet = endpoint({ auth: 'none', redirect: true }, async (ctx, deps) => {
  const { query, redirectTo: target, req, res } = ctx;
  const raw = typeof query.token === 'string' ? query.token : '';
  const pkce = raw.startsWith('pkce_');
  try {
    const { token, type } = VerifyQuery.parse(query);
    if (type === '') throw badRequest(ErrorCodes.validationFailed, 'Verify requires a verification type');
    if (token === '') throw badRequest(ErrorCodes.validationFailed, 'Verify requires a token or a token hash');
    const outcome = await verifyTokenHash(deps, ctx.meta, type, token, true);
    if (outcome.kind === 'code') return redirectWithParams(res, target, { query: { code: outcome.authCode } }, 303);
    if (outcome.kind === 'pending') {
      const message = { message: outcome.message };
      return redirectWithParams(res, target, { query: pkce ? message : undefined, fragment: { ...message, sb: '' } }, 303);
    }
    const t = outcome.tokens;
    const session = { access_token: t.accessToken, expires_at: String(t.expiresAt), expires_in: String(t.expiresIn), refresh_token: t.refreshToken, token_type: 'bearer', type };
    return redirectWithParams(res, target, { fragment: { ...session, sb: '' } }, 303);
  } catch (err) {
    const e = toApiError(err);
    redirectWithError(req, res, deps.logger, target, e, { in: pkce ? 'both' : 'fragment', status: 303, description: e.code === ErrorCodes.otpExpired ? LINK_INVALID : undefined });
  }
});
