import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { uuidParam } from '../http/fields';
import { startAuthorization } from '../services/external-auth';
import { unlinkIdentity as unlinkService } from '../services/identities';
import { AuthorizeQuery, authorizeInput } from './external';

/** /user/identities/* exist only with GOTRUE_SECURITY_MANUAL_LINKING_ENABLED (GoTrue answers 404 otherwise). */
export const requireManualLinking = (deps: Deps): RequestHandler => (_req, _res, next) => {
  if (!deps.config.security.manualLinkingEnabled) throw notFound(ErrorCodes.manualLinkingDisabled, 'Manual linking is disabled');
  next();
};

/** GET /user/identities/authorize: like /authorize, for the signed-in user (auth-js linkIdentity reads {url}). */
export const linkIdentity = endpoint({ auth: 'user', query: AuthorizeQuery, redirect: true }, async ({ query, redirectTo, user, res }, deps) => {
  const q = authorizeInput(query, redirectTo);
  const { url } = await startAuthorization(deps, { ...q, linkingTargetId: user.user.id });
  if (q.skipHttpRedirect) return { url };
  res.redirect(302, url);
});

/** DELETE /user/identities/{identity_id} → {} (a token for another audience: 403 unexpected_audience). */
export const unlinkIdentity = endpoint({ auth: 'user', params: z.object({ identity_id: uuidParam('identity_id') }) }, async ({ params, meta, user }, deps) => {
  await unlinkService(deps, meta, user, params.identity_id);
  return {};
});
