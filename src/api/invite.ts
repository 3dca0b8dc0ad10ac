import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { adminOf } from '../http/middleware/require-admin';
import { optObject, optString, parseBody } from '../http/parse';
import { requestRedirectTo } from '../http/redirect-to';
import { requestMeta } from '../http/request-meta';
import { invite as inviteService } from '../services/invite';
import { userJson } from './shapes';

const InviteBody = z.object({ email: optString(), data: optObject() });

/** POST /invite {email, data} ?redirect_to (admin) → User. */
export const invite = (deps: Deps): RequestHandler => async (req, res) => {
  const body = parseBody(req, InviteBody);
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'An email address is required');
  const user = await inviteService(deps, requestMeta(req, deps.config), adminOf(res).claims, {
    email: body.email,
    data: body.data,
    redirectTo: requestRedirectTo(req, deps.config),
  });
  res.json(userJson(user));
};
