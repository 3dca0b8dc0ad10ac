import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { optObject, optString, parseBody } from '../http/parse';
import { authOf } from '../http/middleware/authenticate';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { reauthenticate as reauthenticateService } from '../services/reauthenticate';
import { updateCurrentUser } from '../services/user-update';
import { userJson } from './shapes';

/** GET /user */
export const getUser = (_deps: Deps): RequestHandler => (_req, res) => {
  res.json(userJson(authOf(res).user));
};

const UpdateBody = z.object({
  email: optString(),
  phone: optString(),
  password: optString(),
  data: optObject(),
  app_metadata: optObject(),
  nonce: optString(),
  channel: optString(),
  current_password: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** PUT /user */
export const updateUser = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, UpdateBody);
  const user = await updateCurrentUser(deps, requestMeta(req, deps.config), authOf(res), {
    email: body.email,
    phone: body.phone,
    password: body.password,
    data: body.data,
    app_metadata: body.app_metadata,
    nonce: body.nonce,
    channel: body.channel,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json(userJson(user));
};

/** GET /reauthenticate → {} or {message_id}: mails (or texts) the nonce a password change may need. */
export const reauthenticate = (deps: Deps): RequestHandler => async (req, res) => {
  const messageId = await reauthenticateService(deps, requestMeta(req, deps.config), authOf(res));
  res.json(messageId ? { message_id: messageId } : {});
};
