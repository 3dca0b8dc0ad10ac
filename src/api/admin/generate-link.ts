import { z } from 'zod';
import { isRedirectAllowed } from '../../domain/redirect-url';
import { endpoint } from '../../http/endpoint';
import { email, metadata, newPassword, redirectTo } from '../../http/fields';
import { GENERATE_LINK_TYPES, generateLink as generateLinkService } from '../../services/admin/generate-link';
import { userJson } from '../shapes';

const GenerateLinkBody = z.object({
  type: z.enum(GENERATE_LINK_TYPES, { error: `Invalid email action link type requested, expected one of ${GENERATE_LINK_TYPES.join(', ')}` }),
  email: email().pipe(z.string({ error: 'An email address is required' })),
  new_email: email(),
  password: newPassword(),
  data: metadata(),
  redirect_to: redirectTo(),
});

/**
 * POST /admin/generate_link → the User's fields with action_link, email_otp, hashed_token, verification_type and
 * redirect_to. The body's redirect_to wins when allowed; else, as GoTrue's referrer, the query or header
 * redirect_to (auth-js sends it there), the Referer, SITE_URL.
 */
export const generateLink = endpoint({ auth: 'admin', body: GenerateLinkBody, redirect: true }, async ({ body, meta, admin, redirectTo: referrer }, deps) => {
  const link = await generateLinkService(deps, meta, admin, {
    type: body.type,
    email: body.email,
    newEmail: body.new_email,
    password: body.password,
    data: body.data,
    redirectTo: body.redirect_to && isRedirectAllowed(deps.config, body.redirect_to) ? body.redirect_to : referrer,
  });
  return {
    ...userJson(link.user),
    action_link: link.actionLink,
    email_otp: link.emailOtp,
    hashed_token: link.hashedToken,
    verification_type: link.verificationType,
    redirect_to: link.redirectTo,
  };
});
