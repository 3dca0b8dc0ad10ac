import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { email, metadata, optString, phone, pkceFields } from '../http/fields';
import { parsePkceParams } from '../domain/flow-state';
import { emailOtp, phoneOtp } from '../services/otp';

const OtpBody = z.object({
  email: email(),
  phone: phone(),
  create_user: z
    .boolean()
    .nullish()
    .transform((v) => v ?? true),
  data: metadata(),
  channel: optString(),
  ...pkceFields,
});

/** POST /otp {email|phone, create_user, data, channel, code_challenge(_method)} → {} or {message_id}. */
export const otp = endpoint({ auth: 'none', body: OtpBody, redirect: true }, async ({ body, meta, redirectTo }, deps) => {
  const email = body.email || undefined;
  const phone = body.phone || undefined;
  if (email && phone) throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided');
  if (phone) {
    const messageId = await phoneOtp(deps, meta, { phone, createUser: body.create_user, data: body.data, channel: body.channel });
    return messageId ? { message_id: messageId } : {};
  }
  if (!email) throw badRequest(ErrorCodes.validationFailed, 'One of email or phone must be set');
  await emailOtp(deps, meta, {
    email,
    createUser: body.create_user,
    data: body.data,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return {};
});

const MagicLinkBody = z.object({ email: email(), data: metadata(), ...pkceFields });

/** POST /magiclink {email, data, code_challenge(_method)} → {} (signs unknown addresses up, as GoTrue does). */
export const magicLink = endpoint({ auth: 'none', body: MagicLinkBody, redirect: true }, async ({ body, meta, redirectTo }, deps) => {
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'Password recovery requires an email');
  await emailOtp(deps, meta, {
    email: body.email,
    createUser: true,
    data: body.data,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return {};
});
