import { Router, type RequestHandler } from 'express';
import { health } from '../api/health';
import { logout } from '../api/logout';
import { settings } from '../api/settings';
import { signup } from '../api/signup';
import { token } from '../api/token';
import { getUser, updateUser } from '../api/user';
import { listAudit } from '../api/admin/audit';
import { deleteFactor, listFactors, updateFactor } from '../api/admin/factors';
import { createUser, deleteUser, getUser as adminGetUser, listUsers, updateUser as adminUpdateUser } from '../api/admin/users';
import type { Deps } from '../deps';
import { requireUser } from './middleware/authenticate';
import { createRateLimits } from './middleware/rate-limit';
import { requireAdmin } from './middleware/require-admin';

/** THE route table: every path, its middleware and its handler. */
export function buildRouter(deps: Deps): Router {
  const r = Router();
  const limit = createRateLimits(deps.config);
  const user: RequestHandler = requireUser(deps);

  r.get('/health', health(deps));
  r.get('/settings', settings(deps));

  r.post('/signup', limit.otp, signup(deps));
  r.post('/token', limit.token, token(deps));

  r.get('/user', user, getUser(deps));
  r.put('/user', limit.otp, user, updateUser(deps));
  r.post('/logout', user, logout(deps));

  // Admin API (contract §1.9): every /admin path requires an admin-role JWT, unknown ones included.
  r.use('/admin', requireAdmin(deps));
  r.get('/admin/users', listUsers(deps));
  r.post('/admin/users', createUser(deps));
  r.get('/admin/users/:user_id', adminGetUser(deps));
  r.put('/admin/users/:user_id', adminUpdateUser(deps));
  r.delete('/admin/users/:user_id', deleteUser(deps));
  r.get('/admin/users/:user_id/factors', listFactors(deps));
  r.put('/admin/users/:user_id/factors/:factor_id', updateFactor(deps));
  r.delete('/admin/users/:user_id/factors/:factor_id', deleteFactor(deps));
  r.get('/admin/audit', listAudit(deps));

  return r;
}
