import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { optObject, optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { signup as signupService } from '../services/signup';
import { tokenResponseJson, userJson } from './shapes';

const SignupBody = z.object({
  email: optString(),
  phone: optString(),
  password: optString(),
  data: optObject(),
  channel: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** POST /signup */
export const signup = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, SignupBody);
  const result = await signupService(deps, requestMeta(req, deps.config), {
    email: body.email === '' ? undefined : body.email,
    phone: body.phone === '' ? undefined : body.phone,
    password: body.password,
    data: body.data,
    channel: body.channel,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json(result.kind === 'session' ? tokenResponseJson(result.tokens, result.user) : userJson(result.user));
};
