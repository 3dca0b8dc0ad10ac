import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { email, metadata } from '../http/fields';
import { invite as inviteService } from '../services/invite';
import { userJson } from './shapes';

const InviteBody = z.object({ email: email(), data: metadata() });

/** POST /invite {email, data} ?redirect_to (admin) → User. */
export const invite = endpoint({ auth: 'admin', body: InviteBody, redirect: true }, async ({ body, meta, admin, redirectTo }, deps) => {
  if (!body.email) throw badRequest(ErrorCodes.validationFailed, 'An email address is required');
  const user = await inviteService(deps, meta, admin.claims, { email: body.email, data: body.data, redirectTo });
  return userJson(user);
});
