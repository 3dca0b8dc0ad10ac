import type { RequestHandler, Response } from 'express';
import type { Deps } from '../../deps';
import { authenticateUser, type AuthenticatedUser } from '../../services/authenticate';

/** Admits callers at the "user" level (contract §0) and keeps who they are on res.locals. */
export const requireUser = (deps: Deps): RequestHandler => async (req, res, next) => {
  res.locals.auth = await authenticateUser(deps, req.header('authorization'));
  next();
};

/** The caller that requireUser admitted. */
export function authOf(res: Response): AuthenticatedUser {
  const auth = res.locals.auth as AuthenticatedUser | undefined;
  if (!auth) throw new Error('authOf: route is missing requireUser');
  return auth;
}
