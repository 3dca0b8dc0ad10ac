import { z } from 'zod';
import { endpoint } from '../http/endpoint';
import { email, metadata, newPassword, optString, phone, pkceFields } from '../http/fields';
import { parsePkceParams } from '../domain/flow-state';
import { signup as signupService } from '../services/signup';
import { tokenResponseJson, userJson } from './shapes';

const SignupBody = z.object({
  email: email(),
  phone: phone(),
  password: newPassword(),
  data: metadata(),
  channel: optString(),
  ...pkceFields,
});

/** POST /signup */
export const signup = endpoint({ auth: 'none', body: SignupBody, redirect: true }, async ({ body, meta, redirectTo }, deps) => {
  const result = await signupService(deps, meta, {
    email: body.email === '' ? undefined : body.email,
    phone: body.phone === '' ? undefined : body.phone,
    password: body.password,
    data: body.data,
    channel: body.channel,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return result.kind === 'session' ? tokenResponseJson(result.tokens, result.user) : userJson(result.user);
});
