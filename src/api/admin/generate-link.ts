import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { adminOf } from '../../http/middleware/require-admin';
import { optObject, optString, parseBody } from '../../http/parse';
import { requestRedirectTo } from '../../http/redirect-to';
import { requestMeta } from '../../http/request-meta';
import { GENERATE_LINK_TYPES, generateLink as generateLinkService } from '../../services/admin/generate-link';
import { isRedirectAllowed } from '../../services/redirect-url';
import { userJson } from '../shapes';

const GenerateLinkBody = z.object({
  type: z.enum(GENERATE_LINK_TYPES, { error: `Invalid email action link type requested, expected one of ${GENERATE_LINK_TYPES.join(', ')}` }),
  email: z.string({ error: 'An email address is required' }),
  new_email: optString(),
  password: optString(),
  data: optObject(),
  redirect_to: optString(),
});

/**
 * POST /admin/generate_link → the User's fields with action_link, email_otp, hashed_token, verification_type and
 * redirect_to. The body's redirect_to wins when allowed; else, as GoTrue's referrer, the query or header
 * redirect_to (auth-js sends it there), the Referer, SITE_URL.
 */
export const generateLink = (deps: Deps): RequestHandler => async (req, res) => {
  const b = parseBody(req, GenerateLinkBody);
  const redirectTo = b.redirect_to && isRedirectAllowed(deps.config, b.redirect_to) ? b.redirect_to : requestRedirectTo(req, deps.config);
  const link = await generateLinkService(deps, requestMeta(req, deps.config), adminOf(res), {
    type: b.type,
    email: b.email,
    newEmail: b.new_email,
    password: b.password,
    data: b.data,
    redirectTo,
  });
  res.json({
    ...userJson(link.user),
    action_link: link.actionLink,
    email_otp: link.emailOtp,
    hashed_token: link.hashedToken,
    verification_type: link.verificationType,
    redirect_to: link.redirectTo,
  });
};
