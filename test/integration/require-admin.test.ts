import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps';
import { errorHandler } from '../../src/http/error-handler';
import { adminOf, requireAdmin } from '../../src/http/middleware/require-admin';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, testDeps } from '../helpers/test-server';
import { apiKeyJwt, forgeJwt, serviceRoleJwt, unsignedJwt } from '../helpers/tokens';

const { db } = useTestApp();

/** The middleware alone in front of a handler that echoes the admitted role. */
function guarded(deps: Deps) {
  const app = express();
  app.get('/admin/ping', requireAdmin(deps), (_req, res) => {
    res.json({ role: adminOf(res).role });
  });
  app.use(errorHandler(deps.logger));
  return app;
}

const call = (deps: Deps, token?: string) => {
  const r = request(guarded(deps)).get('/admin/ping').set(API_VERSION);
  return token === undefined ? r : r.set('Authorization', `Bearer ${token}`);
};

describe('requireAdmin', () => {
  it('admits the service_role and supabase_admin keys, with no sub', async () => {
    const deps = testDeps(db);
    expect((await call(deps, await serviceRoleJwt(deps))).body).toEqual({ role: 'service_role' });
    expect((await call(deps, await apiKeyJwt(deps, 'supabase_admin'))).body).toEqual({ role: 'supabase_admin' });
  });

  it('follows GOTRUE_JWT_ADMIN_ROLES', async () => {
    const deps = testDeps(db, { GOTRUE_JWT_ADMIN_ROLES: 'ops' });
    expect((await call(deps, await apiKeyJwt(deps, 'ops'))).status).toBe(200);
    const r = await call(deps, await serviceRoleJwt(deps));
    expect([r.status, r.body.code]).toEqual([403, 'not_admin']);
  });

  it.each([
    ['no Authorization header', () => undefined, 401, 'no_authorization'],
    ['an anon key', (d: Deps) => apiKeyJwt(d, 'anon'), 403, 'not_admin'],
    ['a user token', (d: Deps) => apiKeyJwt(d, 'authenticated'), 403, 'not_admin'],
    ['a token with no role', (d: Deps) => d.signer.sign({ exp: 9_999_999_999 }), 403, 'not_admin'],
    ['a token with a non-string role', (d: Deps) => d.signer.sign({ role: ['service_role'] as unknown as string, exp: 9_999_999_999 }), 403, 'not_admin'],
    ['a service_role token signed with another secret', () => forgeJwt({ role: 'service_role', exp: 9_999_999_999 }, 'another-secret-that-is-long-enough-!!'), 403, 'bad_jwt'],
    ['an unsigned (alg none) service_role token', () => unsignedJwt({ role: 'service_role', exp: 9_999_999_999 }), 403, 'bad_jwt'],
    ['an expired service_role token', () => forgeJwt({ role: 'service_role', exp: 1_000_000 }), 403, 'bad_jwt'],
    ['an HS384 service_role token', () => forgeJwt({ role: 'service_role', exp: 9_999_999_999 }, undefined, 'HS384'), 403, 'bad_jwt'],
    ['garbage', () => 'not-a-jwt', 403, 'bad_jwt'],
  ] as const)('refuses %s', async (_name, make, status, code) => {
    const deps = testDeps(db);
    const r = await call(deps, await make(deps));
    expect([r.status, r.body.code, r.headers['x-sb-error-code']]).toEqual([status, code, code]);
  });

  it('refuses an Authorization header that is not a Bearer token', async () => {
    const deps = testDeps(db);
    const r = await request(guarded(deps)).get('/admin/ping').set(API_VERSION).set('Authorization', `Basic ${await serviceRoleJwt(deps)}`);
    expect([r.status, r.body.code]).toEqual([401, 'no_authorization']);
  });
});
