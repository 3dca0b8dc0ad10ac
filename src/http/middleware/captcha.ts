import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { authenticateAdmin } from '../../domain/authenticate';
import { badRequest, internalError } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { parseBody } from '../parse';
import { clientIp } from '../request-meta';

/** /token grants GoTrue lets through without a token (isIgnoreCaptchaRoute): they follow a sign-in already checked. */
const UNGUARDED_GRANTS = new Set(['pkce', 'refresh_token', 'id_token']);

/** The part of a guarded body the check reads; the handler parses the rest. */
const CaptchaBody = z.looseObject({
  gotrue_meta_security: z.looseObject({ captcha_token: z.string().nullish() }).nullish(),
});

/**
 * The token from the body's `gotrue_meta_security.captcha_token`, trimmed ('' when absent). A body that is not a
 * JSON object is 400 bad_json, a token that is not a string 400 validation_failed (GoTrue: bad_json for both).
 */
function captchaToken(req: Request): string {
  return parseBody(req.body, CaptchaBody).gotrue_meta_security?.captcha_token?.trim() ?? '';
}

async function isAdminCaller(deps: Deps, req: Request): Promise<boolean> {
  if (!req.header('authorization')) return false;
  try {
    await authenticateAdmin(deps, req.header('authorization'));
    return true;
  } catch {
    return false;
  }
}

/**
 * GoTrue's verifyCaptcha, for the routes it guards (signup, /token, /otp, /magiclink, /recover, /resend): with
 * GOTRUE_SECURITY_CAPTCHA_ENABLED the body must carry `gotrue_meta_security.captcha_token` and the provider must
 * accept it for the client's IP. Skipped for an admin caller and for the /token grants that follow an earlier
 * sign-in (pkce, refresh_token, id_token). No token → 400 captcha_failed "…(no captcha_token found)"; refused →
 * 400 captcha_failed listing the provider's error codes; provider unreachable or answering nonsense → 500, as GoTrue.
 */
export function createCaptchaGuards(deps: Deps): { captcha: RequestHandler; tokenCaptcha: RequestHandler } {
  const captcha = requireCaptcha(deps);
  return {
    captcha,
    /** For POST /token: the grant in `?grant_type=` decides. */
    tokenCaptcha: (req, res, next) => {
      const grant = typeof req.query.grant_type === 'string' ? req.query.grant_type : '';
      return UNGUARDED_GRANTS.has(grant) ? next() : captcha(req, res, next);
    },
  };
}

const requireCaptcha = (deps: Deps): RequestHandler => async (req, _res, next) => {
  const verifier = deps.captcha;
  if (!verifier) return next();
  if (await isAdminCaller(deps, req)) return next();
  const token = captchaToken(req);
  if (!token) throw badRequest(ErrorCodes.captchaFailed, 'captcha protection: request disallowed (no captcha_token found)');
  let verdict;
  try {
    verdict = await verifier.verify(token, clientIp(req));
  } catch (err) {
    throw internalError('captcha verification process failed', err);
  }
  if (!verdict.success) throw badRequest(ErrorCodes.captchaFailed, `captcha protection: request disallowed (${verdict.errorCodes.join(', ')})`);
  next();
};
