import { z } from 'zod';
import { endpoint } from '../http/endpoint';
import { email, optString, phone, pkceFields } from '../http/fields';
import { parsePkceParams } from '../domain/flow-state';
import { resend as resendService } from '../services/resend';

const ResendBody = z.object({ type: optString(), email: email(), phone: phone(), ...pkceFields });

/** POST /resend {type: signup|email_change|sms|phone_change, email|phone} → {} or {message_id}. */
export const resend = endpoint({ auth: 'none', body: ResendBody, redirect: true }, async ({ body, meta, redirectTo }, deps) => {
  const messageId = await resendService(deps, meta, {
    type: body.type,
    email: body.email || undefined,
    phone: body.phone || undefined,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return messageId ? { message_id: messageId } : {};
});
