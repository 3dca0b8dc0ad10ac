import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { authOf } from '../http/middleware/authenticate';
import { requestMeta } from '../http/request-meta';
import { logout as logoutService } from '../services/logout';

const Scope = z.enum(['global', 'local', 'others']);

/** POST /logout?scope=global|local|others → 204 */
export const logout = (deps: Deps): RequestHandler => async (req, res) => {
  const raw = req.query.scope;
  const parsed = Scope.safeParse(raw === undefined || raw === '' ? 'global' : raw);
  if (!parsed.success) throw badRequest(ErrorCodes.validationFailed, 'Unsupported logout scope');
  await logoutService(deps, requestMeta(req, deps.config), authOf(res), parsed.data);
  res.status(204).end();
};
