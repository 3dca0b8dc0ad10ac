import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { email, metadata, newPassword, optString, passwordToCheck, phone, pkceFields } from '../http/fields';
import { tokenAudience } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { reauthenticate as reauthenticateService } from '../services/reauthenticate';
import { updateCurrentUser } from '../services/user-update';
import { userJson } from './shapes';

/** GET /user. As GoTrue's UserGet: a token for another audience than the request's is 400 validation_failed. */
export const getUser = endpoint({ auth: 'user' }, ({ user, meta }) => {
  if (tokenAudience(user.claims) !== meta.aud) throw badRequest(ErrorCodes.validationFailed, "Token audience doesn't match request audience");
  return userJson(user.user);
});

const UpdateBody = z.object({
  email: email(),
  phone: phone(),
  password: newPassword(),
  data: metadata(),
  app_metadata: metadata(),
  nonce: optString(),
  channel: optString(),
  current_password: passwordToCheck(),
  ...pkceFields,
});

/** PUT /user */
export const updateUser = endpoint({ auth: 'user', body: UpdateBody, redirect: true }, async ({ body, meta, user, redirectTo }, deps) => {
  const updated = await updateCurrentUser(deps, meta, user, {
    email: body.email,
    phone: body.phone,
    password: body.password,
    data: body.data,
    app_metadata: body.app_metadata,
    nonce: body.nonce,
    currentPassword: body.current_password,
    channel: body.channel,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return userJson(updated);
});

/** GET /reauthenticate → {} or {message_id}: mails (or texts) the nonce a password change may need. */
export const reauthenticate = endpoint({ auth: 'user' }, async ({ meta, user }, deps) => {
  const messageId = await reauthenticateService(deps, meta, user);
  return messageId ? { message_id: messageId } : {};
});
