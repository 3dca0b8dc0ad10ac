import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { parsePkceParams } from '../domain/flow-state';
import { recover as recoverService } from '../services/recover';

const RecoverBody = z.object({
  email: optString(),
  code_challenge: optString(),
  code_challenge_method: optString(),
});

/** POST /recover {email, code_challenge(_method)} → always {}. */
export const recover = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, RecoverBody);
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'Password recovery requires an email');
  await recoverService(deps, requestMeta(req, deps.config), {
    email: body.email,
    pkce: parsePkceParams(body.code_challenge, body.code_challenge_method),
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json({});
};
