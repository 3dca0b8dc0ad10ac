import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { optObject, optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { emailOtp, phoneOtp } from '../services/otp';

const OtpBody = z.object({
  email: optString(),
  phone: optString(),
  create_user: z
    .boolean()
    .nullish()
    .transform((v) => v ?? true),
  data: optObject(),
  channel: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** POST /otp {email|phone, create_user, data, channel, code_challenge(_method)} → {} or {message_id}. */
export const otp = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, OtpBody);
  const email = body.email || undefined;
  const phone = body.phone || undefined;
  if (email && phone) throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided');
  const meta = requestMeta(req, deps.config);
  if (phone) {
    const messageId = await phoneOtp(deps, meta, { phone, createUser: body.create_user, data: body.data, channel: body.channel });
    res.json(messageId ? { message_id: messageId } : {});
    return;
  }
  if (!email) throw badRequest(ErrorCodes.validationFailed, 'One of email or phone must be set');
  await emailOtp(deps, meta, {
    email,
    createUser: body.create_user,
    data: body.data,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json({});
};

const MagicLinkBody = z.object({
  email: optString(),
  data: optObject(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** POST /magiclink {email, data, code_challenge(_method)} → {} (signs unknown addresses up, as GoTrue does). */
export const magicLink = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, MagicLinkBody);
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'Password recovery requires an email');
  await emailOtp(deps, requestMeta(req, deps.config), {
    email: body.email,
    createUser: true,
    data: body.data,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json({});
};
