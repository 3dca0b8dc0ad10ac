import { createHmac } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { claimsOf, refresh, signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, TEST_JWT_SECRET } from '../helpers/test-server';

const { db, app } = useTestApp();

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function forge(claims: Record<string, unknown>, secret = TEST_JWT_SECRET, alg = 'HS256') {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const getUser = (token?: string) => {
  const r = request(app).get('/user').set(API_VERSION);
  return token === undefined ? r : r.set('Authorization', `Bearer ${token}`);
};

describe('GET /user', () => {
  it('returns the user of a valid token', async () => {
    const { body } = await signUp(app);
    const r = await getUser(body.access_token);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(body.user);
  });

  it('is mounted under /auth/v1 too', async () => {
    const { body } = await signUp(app);
    const r = await request(app).get('/auth/v1/user').set('Authorization', `Bearer ${body.access_token}`);
    expect(r.body.id).toBe(body.user.id);
  });

  it('refuses a missing token with 401 no_authorization', async () => {
    const r = await getUser();
    expect([r.status, r.body.code]).toEqual([401, 'no_authorization']);
  });

  it.each([
    ['garbage', () => 'not.a.jwt'],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '00000000-0000-0000-0000-000000000001', exp: 9_999_999_999 })}.`],
    ['wrong key', () => forge({ sub: '00000000-0000-0000-0000-000000000001', exp: 9_999_999_999 }, 'some-other-secret-which-is-long-enough')],
    ['expired', () => forge({ sub: '00000000-0000-0000-0000-000000000001', exp: 1_000_000 })],
    ['HS384 header', () => forge({ sub: '00000000-0000-0000-0000-000000000001', exp: 9_999_999_999 }, TEST_JWT_SECRET, 'HS384')],
    ['non-uuid sub', () => forge({ sub: 'admin', exp: 9_999_999_999 })],
  ])('refuses a %s token with 403 bad_jwt', async (_n, make) => {
    const r = await getUser(make());
    expect([r.status, r.body.code]).toEqual([403, 'bad_jwt']);
  });

  it('refuses a token whose user is gone (user_not_found) or whose session is gone (session_not_found)', async () => {
    const ghost = forge({ sub: '00000000-0000-0000-0000-000000000009', exp: 9_999_999_999, role: 'authenticated' });
    expect((await getUser(ghost)).body.code).toBe('user_not_found');
    const { body } = await signUp(app);
    await db.db.deleteFrom('sessions').where('user_id', '=', body.user.id).execute();
    const r = await getUser(body.access_token);
    expect([r.status, r.body.code]).toEqual([403, 'session_not_found']);
  });

  it('refuses a banned user with 403 user_banned', async () => {
    const { body } = await signUp(app);
    await db.db.updateTable('users').set({ banned_until: new Date(Date.now() + 60_000) }).where('id', '=', body.user.id).execute();
    expect((await getUser(body.access_token)).body.code).toBe('user_banned');
  });
});

describe('PUT /user', () => {
  const put = (token: string, body: unknown) => request(app).put('/user').set(API_VERSION).set('Authorization', `Bearer ${token}`).send(body as object);

  it('merges data into user_metadata, a null value deleting its key', async () => {
    const { body } = await signUp(app, undefined, undefined, { a: 1, b: 2 });
    const r = await put(body.access_token, { data: { b: null, c: { nested: true } } });
    expect(r.status).toBe(200);
    expect(r.body.user_metadata).toMatchObject({ a: 1, c: { nested: true } });
    expect(r.body.user_metadata).not.toHaveProperty('b');
    expect((await getUser(body.access_token)).body.user_metadata).toEqual(r.body.user_metadata);
  });

  it('changes the password, keeps this session and signs out the others', async () => {
    const { email, password, body: current } = await signUp(app);
    const other = await signIn(app, email, password);
    const r = await put(current.access_token, { password: 'brand-new-pass' });
    expect(r.status).toBe(200);
    expect((await getUser(current.access_token)).status).toBe(200);
    expect((await getUser(other.access_token)).body.code).toBe('session_not_found');
    expect((await refresh(app, other.refresh_token)).body.code).toBe('refresh_token_not_found');
    expect((await request(app).post('/token?grant_type=password').send({ email, password })).body.error_code).toBe('invalid_credentials');
    await signIn(app, email, 'brand-new-pass');
  });

  it('refuses the same password (same_password) and weak ones (weak_password)', async () => {
    const { password, body } = await signUp(app);
    expect((await put(body.access_token, { password })).body.code).toBe('same_password');
    const weak = await put(body.access_token, { password: 'abc' });
    expect([weak.status, weak.body.code, weak.body.weak_password.reasons]).toEqual([422, 'weak_password', ['length']]);
  });

  it('lets only the admin group set app_metadata', async () => {
    const { body } = await signUp(app);
    const denied = await put(body.access_token, { app_metadata: { plan: 'pro' } });
    expect([denied.status, denied.body.code]).toEqual([403, 'not_admin']);
    await db.db.updateTable('users').set({ role: 'admin' }).where('id', '=', body.user.id).execute();
    const ok = await put(body.access_token, { app_metadata: { plan: 'pro' } });
    expect(ok.status).toBe(200);
    expect(ok.body.app_metadata).toEqual({ provider: 'email', providers: ['email'], plan: 'pro' });
  });

  it('refuses an email another user has with 422 email_exists, and accepts the unchanged email', async () => {
    const { body } = await signUp(app);
    const { email: taken } = await signUp(app);
    const r = await put(body.access_token, { email: taken.toUpperCase() });
    expect([r.status, r.body.code]).toEqual([422, 'email_exists']);
    expect((await put(body.access_token, { email: body.user.email, data: { x: 1 } })).status).toBe(200);
  });

  it('writes a user_updated_password audit row', async () => {
    const { body } = await signUp(app);
    await put(body.access_token, { password: 'another-new-pass' });
    const rows = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    expect(rows.some((r) => (r.payload as Record<string, unknown>).actor_id === body.user.id && (r.payload as Record<string, unknown>).action === 'user_updated_password')).toBe(true);
  });
});

describe('POST /logout', () => {
  const logout = (token: string, scope?: string) =>
    request(app).post(`/logout${scope ? `?scope=${scope}` : ''}`).set(API_VERSION).set('Authorization', `Bearer ${token}`);

  async function threeSessions() {
    const { email, password, body: a } = await signUp(app);
    return [a, await signIn(app, email, password), await signIn(app, email, password)] as const;
  }
  const alive = async (t: { access_token: string }) => (await getUser(t.access_token)).status === 200;

  it('global (the default) ends every session', async () => {
    const [a, b, c] = await threeSessions();
    expect((await logout(a.access_token)).status).toBe(204);
    expect([await alive(a), await alive(b), await alive(c)]).toEqual([false, false, false]);
  });

  it('local ends only this session', async () => {
    const [a, b, c] = await threeSessions();
    expect((await logout(a.access_token, 'local')).status).toBe(204);
    expect([await alive(a), await alive(b), await alive(c)]).toEqual([false, true, true]);
  });

  it('others ends all but this session', async () => {
    const [a, b, c] = await threeSessions();
    expect((await logout(a.access_token, 'others')).status).toBe(204);
    expect([await alive(a), await alive(b), await alive(c)]).toEqual([true, false, false]);
  });

  it('refuses an unknown scope and a signed-out session', async () => {
    const [a] = await threeSessions();
    expect((await logout(a.access_token, 'everything')).body.code).toBe('validation_failed');
    await logout(a.access_token, 'local');
    expect((await logout(a.access_token)).body.code).toBe('session_not_found');
    expect(claimsOf(a.access_token).session_id).toBeTypeOf('string');
  });
});
