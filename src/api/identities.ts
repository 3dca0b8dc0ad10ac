import type { RequestHandler } from 'express';
import type { Deps } from '../deps';
import { notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { authOf } from '../http/middleware/authenticate';
import { requestMeta } from '../http/request-meta';
import { startAuthorization } from '../services/external-auth';
import { isUuid } from '../domain/identifiers';
import { unlinkIdentity as unlinkService } from '../services/identities';
import { parseAuthorizeQuery } from './external';

/** /user/identities/* exist only with GOTRUE_SECURITY_MANUAL_LINKING_ENABLED (GoTrue answers 404 otherwise). */
export const requireManualLinking = (deps: Deps): RequestHandler => (_req, _res, next) => {
  if (!deps.config.security.manualLinkingEnabled) throw notFound(ErrorCodes.manualLinkingDisabled, 'Manual linking is disabled');
  next();
};

/** GET /user/identities/authorize: like /authorize, for the signed-in user (auth-js linkIdentity reads {url}). */
export const linkIdentity = (deps: Deps): RequestHandler => async (req, res) => {
  const q = parseAuthorizeQuery(deps, req);
  const { url } = await startAuthorization(deps, { ...q, linkingTargetId: authOf(res).user.id });
  if (q.skipHttpRedirect) res.json({ url });
  else res.redirect(302, url);
};

/** DELETE /user/identities/{identity_id} → {} */
export const unlinkIdentity = (deps: Deps): RequestHandler => async (req, res) => {
  const id = String(req.params.identity_id ?? '');
  if (!isUuid(id)) throw notFound(ErrorCodes.validationFailed, 'identity_id must be an UUID');
  await unlinkService(deps, requestMeta(req, deps.config), authOf(res), id);
  res.json({});
};
