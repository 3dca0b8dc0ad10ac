import { Router, type RequestHandler } from 'express';
import { createCustomProvider, deleteCustomProvider, getCustomProvider, listCustomProviders, updateCustomProvider } from './api/admin/custom-providers';
import { getProviderToken } from './api/admin/provider-tokens';
import { authorize, callback } from './api/external';
import { health } from './api/health';
import { linkIdentity, requireManualLinking, unlinkIdentity } from './api/identities';
import { invite } from './api/invite';
import { logout } from './api/logout';
import { magicLink, otp } from './api/otp';
import { recover } from './api/recover';
import { resend } from './api/resend';
import { settings } from './api/settings';
import { signup } from './api/signup';
import { token } from './api/token';
import { getUser, reauthenticate, updateUser } from './api/user';
import { verifyGet, verifyPost } from './api/verify';
import { wellKnownJwks, wellKnownOpenId } from './api/well-known';
import { listAudit } from './api/admin/audit';
import { deleteFactor, listFactors, updateFactor } from './api/admin/factors';
import { generateLink } from './api/admin/generate-link';
import { createUser, deleteUser, getUser as adminGetUser, listUsers, updateUser as adminUpdateUser } from './api/admin/users';
import type { Deps } from './deps';
import { requireUser } from './http/middleware/authenticate';
import { requireAdmin } from './http/middleware/require-admin';
import { createRateLimits } from './http/middleware/rate-limit';

/** THE route table: every path, its middleware and its handler. */
export function buildRouter(deps: Deps): Router {
  const r = Router();
  const limit = createRateLimits(deps);
  const user: RequestHandler = requireUser(deps);

  r.get('/health', health(deps));
  r.get('/.well-known/jwks.json', wellKnownJwks(deps));
  r.get('/.well-known/openid-configuration', wellKnownOpenId(deps));
  r.get('/settings', settings(deps));

  r.post('/signup', limit.signup, signup(deps));
  r.post('/token', limit.token, token(deps));

  r.get('/authorize', limit.external, authorize(deps));
  r.get('/callback', limit.external, callback(deps));
  r.post('/callback', limit.external, callback(deps));
  r.post('/otp', limit.otp, otp(deps));
  r.post('/magiclink', limit.magiclink, magicLink(deps));
  r.post('/recover', limit.recover, recover(deps));
  r.post('/resend', limit.resend, resend(deps));
  r.get('/verify', limit.verify, verifyGet(deps));
  r.post('/verify', limit.verify, verifyPost(deps));

  r.get('/user', user, getUser(deps));
  r.put('/user', limit.user, user, updateUser(deps));
  r.get('/reauthenticate', limit.reauthenticate, user, reauthenticate(deps));
  r.post('/logout', user, logout(deps));
  r.get('/user/identities/authorize', requireManualLinking(deps), limit.external, user, linkIdentity(deps));
  r.delete('/user/identities/:identity_id', requireManualLinking(deps), user, unlinkIdentity(deps));

  r.post('/invite', requireAdmin(deps), invite(deps));

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
  r.get('/admin/users/:id/provider-tokens/:provider', getProviderToken(deps));
  r.post('/admin/generate_link', generateLink(deps));
  r.get('/admin/audit', listAudit(deps));
  r.get('/admin/custom-providers', listCustomProviders(deps));
  r.post('/admin/custom-providers', createCustomProvider(deps));
  r.get('/admin/custom-providers/:id', getCustomProvider(deps));
  r.put('/admin/custom-providers/:id', updateCustomProvider(deps));
  r.delete('/admin/custom-providers/:id', deleteCustomProvider(deps));

  return r;
}
