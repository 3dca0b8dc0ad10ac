import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders, insertFactor } from '../helpers/admin';
import { signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';
import { apiKeyJwt, forgeJwt, unsignedJwt } from '../helpers/tokens';

const { db, deps, app } = useTestApp();
let userId = '';
let factorId = '';
let userToken = '';

beforeAll(async () => {
  const s = await signUp(app);
  userId = s.body.user.id;
  userToken = s.body.access_token;
  factorId = await insertFactor(db, userId, { name: 'f' });
});

type Method = 'get' | 'post' | 'put' | 'delete';
/** Every admin route, with a body that would succeed for an admin (so only the caller decides the outcome). */
const routes = (): [Method, string, object | undefined][] => [
  ['get', '/admin/users', undefined],
  ['post', '/admin/users', { email: uniqueEmail() }],
  ['get', `/admin/users/${userId}`, undefined],
  ['put', `/admin/users/${userId}`, { user_metadata: { x: 1 } }],
  ['delete', `/admin/users/${userId}`, { should_soft_delete: false }],
  ['get', `/admin/users/${userId}/factors`, undefined],
  ['put', `/admin/users/${userId}/factors/${factorId}`, { friendly_name: 'g' }],
  ['delete', `/admin/users/${userId}/factors/${factorId}`, undefined],
  ['get', '/admin/audit', undefined],
  ['post', '/admin/generate_link', { type: 'signup', email: uniqueEmail(), password: 'pass-word-1' }],
  ['get', '/admin/nowhere', undefined],
];

describe('every admin route refuses non-admin callers', () => {
  const callers: [string, () => string | undefined, number, string][] = [
    ['no Authorization header', () => undefined, 401, 'no_authorization'],
    ['a signed-in user’s JWT', () => userToken, 403, 'not_admin'],
    ['the anon key', () => apiKeyJwt(deps, 'anon'), 403, 'not_admin'],
    ['a service_role key signed with another secret', () => forgeJwt({ role: 'service_role', exp: 9_999_999_999 }, 'wrong-secret-that-is-long-enough-123'), 403, 'bad_jwt'],
    ['an alg-none service_role key', () => unsignedJwt({ role: 'service_role', exp: 9_999_999_999 }), 403, 'bad_jwt'],
    ['an expired service_role key', () => forgeJwt({ role: 'service_role', iat: 1_000, exp: 2_000 }), 403, 'bad_jwt'],
  ];
  it.each(callers)('%s', async (_name, token, status, code) => {
    for (const [method, path, body] of routes()) {
      for (const prefix of ['', '/auth/v1']) {
        let r = request(app)[method](prefix + path).set(API_VERSION);
        const t = token();
        if (t !== undefined) r = r.set('Authorization', `Bearer ${t}`);
        const res = body === undefined ? await r : await r.send(body);
        expect([res.status, res.body.code], `${method} ${prefix}${path}`).toEqual([status, code]);
      }
    }
    // Nothing changed.
    const still = await request(app).get(`/admin/users/${userId}`).set(adminHeaders(deps));
    expect([still.status, still.body.user_metadata.x, still.body.factors?.[0]?.friendly_name]).toEqual([200, undefined, 'f']);
  });
});

describe('invalid input to the admin API is a 4xx with an error_code, never a 5xx', () => {
  type Case = [Method, string, unknown, number, string];
  const U = '{user}';
  const F = '{factor}';
  const long = 'x'.repeat(256);
  const cases: Case[] = [
    // method, path, body, status, error_code
    ['post', '/admin/users', undefined, 400, 'bad_json'],
    ['post', '/admin/users', '[1]', 400, 'bad_json'],
    ['post', '/admin/users', '{oops', 400, 'bad_json'],
    ['post', '/admin/users', {}, 400, 'validation_failed'],
    ['post', '/admin/users', { email: '', phone: '' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 42 }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'not-an-email' }, 400, 'email_address_invalid'],
    ['post', '/admin/users', { email: `${'a'.repeat(250)}@b.com` }, 400, 'validation_failed'],
    ['post', '/admin/users', { phone: 'call me' }, 400, 'validation_failed'],
    ['post', '/admin/users', { phone: '+1234567890123456' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password: 'a' }, 422, 'weak_password'],
    ['post', '/admin/users', { email: 'a@b.co', password: 'x'.repeat(2000) }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password: 12345678 }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', email_confirm: 'yes' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', phone_confirm: 1 }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', user_metadata: 'x' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', user_metadata: [1] }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', app_metadata: 3 }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', id: 'not-a-uuid' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', id: '00000000-0000-0000-0000-000000000000' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', role: long }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', role: ['admin'] }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', aud: long }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password_hash: 'plaintext' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password_hash: '$2b$10$short' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password_hash: '$argon2id$v=19$m=1,t=1,p=1$x$y' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password_hash: '$fbscrypt$v=1,n=99,r=8,p=1,sk=AAAA$AAAA$AAAA' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password_hash: 42 }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', password: 'pass-word-1', password_hash: `$2b$10$${'a'.repeat(53)}` }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', ban_duration: '1d' }, 400, 'validation_failed'],
    ['post', '/admin/users', { email: 'a@b.co', ban_duration: 86400 }, 400, 'validation_failed'],
    ['get', '/admin/users/not-a-uuid', undefined, 404, 'validation_failed'],
    ['get', `/admin/users/${crypto.randomUUID()}`, undefined, 404, 'user_not_found'],
    ['put', `/admin/users/${U}`, undefined, 400, 'bad_json'],
    ['put', `/admin/users/${U}`, '"text"', 400, 'bad_json'],
    ['put', `/admin/users/${U}`, { email: 'nope' }, 400, 'email_address_invalid'],
    ['put', `/admin/users/${U}`, { phone: '0123' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { password: '' }, 422, 'weak_password'],
    ['put', `/admin/users/${U}`, { password: 'x'.repeat(2000) }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { user_metadata: 'x' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { app_metadata: [] }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { email_confirm: 'true' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { role: long }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { password_hash: '$6$salt$sha512crypt' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { password: 'pass-word-1', password_hash: `$2b$10$${'a'.repeat(53)}` }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { ban_duration: 'forever' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { ban_duration: '24' }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}`, { ban_duration: '99999999999h' }, 400, 'validation_failed'],
    ['put', '/admin/users/not-a-uuid', { role: 'x' }, 404, 'validation_failed'],
    ['put', `/admin/users/${crypto.randomUUID()}`, { role: 'x' }, 404, 'user_not_found'],
    ['delete', `/admin/users/${U}`, '{oops', 400, 'bad_json'],
    ['delete', `/admin/users/${U}`, '[]', 400, 'bad_json'],
    ['delete', `/admin/users/${U}`, { should_soft_delete: 'yes' }, 400, 'validation_failed'],
    ['delete', '/admin/users/not-a-uuid', undefined, 404, 'validation_failed'],
    ['delete', `/admin/users/${crypto.randomUUID()}`, undefined, 404, 'user_not_found'],
    ['get', '/admin/users/not-a-uuid/factors', undefined, 404, 'validation_failed'],
    ['get', `/admin/users/${crypto.randomUUID()}/factors`, undefined, 404, 'user_not_found'],
    ['put', `/admin/users/${U}/factors/${F}`, undefined, 400, 'bad_json'],
    ['put', `/admin/users/${U}/factors/${F}`, { friendly_name: 5 }, 400, 'validation_failed'],
    ['put', `/admin/users/${U}/factors/not-a-uuid`, { friendly_name: 'x' }, 404, 'validation_failed'],
    ['put', `/admin/users/${U}/factors/${crypto.randomUUID()}`, { friendly_name: 'x' }, 404, 'mfa_factor_not_found'],
    ['delete', `/admin/users/${U}/factors/not-a-uuid`, undefined, 404, 'validation_failed'],
    ['delete', `/admin/users/${U}/factors/${crypto.randomUUID()}`, undefined, 404, 'mfa_factor_not_found'],
    ['delete', `/admin/users/${crypto.randomUUID()}/factors/${F}`, undefined, 404, 'user_not_found'],
    ['get', '/admin/users?page=0', undefined, 400, 'validation_failed'],
    ['get', '/admin/users?per_page=abc', undefined, 400, 'validation_failed'],
    ['get', '/admin/users?sort=email%20asc', undefined, 400, 'validation_failed'],
    ['get', '/admin/audit?page=-1', undefined, 400, 'validation_failed'],
    ['get', '/admin/audit?per_page=1e3', undefined, 400, 'validation_failed'],
    ['get', '/admin/audit?query=user:x', undefined, 400, 'validation_failed'],
    ['get', '/admin/audit?query=action', undefined, 400, 'validation_failed'],
  ];

  it.each(cases)('%s %s body %j → %i %s', async (method, rawPath, body, status, code) => {
    const path = rawPath.replace(U, userId).replace(F, factorId);
    let r = request(app)[method](path).set(adminHeaders(deps));
    if (typeof body === 'string') r = r.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) r = r.send(body as object);
    const res = await r;
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.headers['x-sb-error-code']).toBe(code);
  });

  it('left the user and factor of the table untouched', async () => {
    const r = await request(app).get(`/admin/users/${userId}`).set(adminHeaders(deps));
    expect(r.status).toBe(200);
    expect(r.body.factors).toHaveLength(1);
    expect(await adminCreate(app, deps, { email: uniqueEmail() })).toHaveProperty('id');
  });
});
