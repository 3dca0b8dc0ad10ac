import type { RequestHandler, Response } from 'express';
import type { JwtClaims } from '../../crypto/jwt';
import type { Deps } from '../../deps';
import { forbidden } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { bearerToken, verifyAccessToken } from '../../services/authenticate';

/**
 * Admits callers at the "admin" level (contract §0): a valid JWT whose `role` is one of GOTRUE_JWT_ADMIN_ROLES; no
 * `sub` needed. No token → 401 no_authorization; a bad one → 403 bad_jwt; another role → 403 not_admin.
 */
export const requireAdmin = (deps: Deps): RequestHandler => (req, res, next) => {
  const claims = verifyAccessToken(deps, bearerToken(req.header('authorization')));
  if (typeof claims.role !== 'string' || !deps.config.jwt.adminRoles.includes(claims.role)) {
    throw forbidden(ErrorCodes.notAdmin, 'User not allowed');
  }
  res.locals.admin = claims;
  next();
};

/** The admin JWT claims that requireAdmin admitted. */
export function adminOf(res: Response): JwtClaims {
  const claims = res.locals.admin as JwtClaims | undefined;
  if (!claims) throw new Error('adminOf: route is missing requireAdmin');
  return claims;
}
