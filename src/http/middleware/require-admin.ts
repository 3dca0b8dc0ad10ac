import type { RequestHandler, Response } from 'express';
import type { Deps } from '../../deps';
import { authenticateAdmin, type AdminCaller } from '../../domain/authenticate';

/**
 * Admits callers at the "admin" level (contract §0): a JWT verified by the signer whose `role` is in
 * GOTRUE_JWT_ADMIN_ROLES. Answers 401 no_authorization, 403 bad_jwt or 403 not_admin otherwise.
 */
export const requireAdmin = (deps: Deps): RequestHandler => async (req, res, next) => {
  res.locals.admin = await authenticateAdmin(deps, req.header('authorization'));
  next();
};

/** The caller that requireAdmin admitted. */
export function adminOf(res: Response): AdminCaller {
  const admin = res.locals.admin as AdminCaller | undefined;
  if (!admin) throw new Error('adminOf: route is missing requireAdmin');
  return admin;
}
