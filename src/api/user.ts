import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { optObject, optString, parseBody } from '../http/parse';
import { authOf } from '../http/middleware/authenticate';
import { requestMeta } from '../http/request-meta';
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
  const user = await updateCurrentUser(deps, requestMeta(req, deps.config), authOf(res), body);
  res.json(userJson(user));
};
