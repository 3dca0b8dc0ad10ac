import type { RequestHandler } from 'express';
import type { Deps } from '../../deps';
import { forbidden } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { bearerToken, verifyAccessToken } from '../../services/authenticate';

/**
 * Admits admin callers (contract §0): a valid JWT whose `role` is in GOTRUE_JWT_ADMIN_ROLES; no `sub` needed.
 * Missing → 401 no_authorization, bad → 403 bad_jwt, other roles → 403 not_admin.
 * (A minimal version for the external providers issue; the admin issue brings the full one.)
 */
export const requireAdmin = (deps: Deps): RequestHandler => (req, res, next) => {
  const claims = verifyAccessToken(deps, bearerToken(req.header('authorization')));
  const role = typeof claims.role === 'string' ? claims.role : '';
  if (!deps.config.jwt.adminRoles.includes(role)) throw forbidden(ErrorCodes.notAdmin, 'User not allowed');
  res.locals.adminClaims = claims;
  next();
};
