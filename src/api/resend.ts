import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { resend as resendService } from '../services/resend';

const ResendBody = z.object({
  type: optString(),
  email: optString(),
  phone: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** POST /resend {type: signup|email_change|sms|phone_change, email|phone} → {} or {message_id}. */
export const resend = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, ResendBody);
  const messageId = await resendService(deps, requestMeta(req, deps.config), {
    type: body.type,
    email: body.email || undefined,
    phone: body.phone || undefined,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json(messageId ? { message_id: messageId } : {});
};
