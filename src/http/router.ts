import { Router, type RequestHandler } from 'express';
import { health } from '../api/health';
import { invite } from '../api/invite';
import { logout } from '../api/logout';
import { magicLink, otp } from '../api/otp';
import { recover } from '../api/recover';
import { resend } from '../api/resend';
import { settings } from '../api/settings';
import { signup } from '../api/signup';
import { token } from '../api/token';
import { getUser, reauthenticate, updateUser } from '../api/user';
import { verifyGet, verifyPost } from '../api/verify';
import type { Deps } from '../deps';
import { requireUser } from './middleware/authenticate';
import { requireAdmin } from './middleware/require-admin';
import { createRateLimits } from './middleware/rate-limit';

/** THE route table: every path, its middleware and its handler. */
export function buildRouter(deps: Deps): Router {
  const r = Router();
  const limit = createRateLimits(deps.config);
  const user: RequestHandler = requireUser(deps);

  r.get('/health', health(deps));
  r.get('/settings', settings(deps));

  r.post('/signup', limit.otp, signup(deps));
  r.post('/token', limit.token, token(deps));

  r.post('/otp', limit.otp, otp(deps));
  r.post('/magiclink', limit.otp, magicLink(deps));
  r.post('/recover', limit.otp, recover(deps));
  r.post('/resend', limit.otp, resend(deps));
  r.get('/verify', limit.verify, verifyGet(deps));
  r.post('/verify', limit.verify, verifyPost(deps));

  r.get('/user', user, getUser(deps));
  r.put('/user', limit.otp, user, updateUser(deps));
  r.get('/reauthenticate', limit.otp, user, reauthenticate(deps));
  r.post('/logout', user, logout(deps));

  r.post('/invite', requireAdmin(deps), invite(deps));

  return r;
}
