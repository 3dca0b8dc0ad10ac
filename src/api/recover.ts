import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { email, pkceFields } from '../http/fields';
import { parsePkceParams } from '../domain/flow-state';
import { recover as recoverService } from '../services/recover';

const RecoverBody = z.object({ email: email(), ...pkceFields });

/** POST /recover {email, code_challenge(_method)} → always {}. */
export const recover = endpoint({ auth: 'none', body: RecoverBody, redirect: true }, async ({ body, meta, redirectTo }, deps) => {
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'Password recovery requires an email');
  await recoverService(deps, meta, {
    email: body.email,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo,
  });
  return {};
});
