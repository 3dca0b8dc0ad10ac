import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders, auditOf } from '../helpers/admin';
import { refresh, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const { db, deps, app } = useTestApp();

const ban = (id: string, banDuration: string) => request(app).put(`/admin/users/${id}`).set(adminHeaders(deps)).send({ ban_duration: banDuration });
const login = (email: string, password = 'pass-word-1') => request(app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
const whoAmI = (token: string) => request(app).get('/user').set(API_VERSION).set('Authorization', `Bearer ${token}`);
const near = (iso: string, ms: number) => Math.abs(new Date(iso).getTime() - (Date.now() + ms)) < 10_000;

describe('bans', () => {
  it('ban_duration "24h" sets banned_until; sign-in, refresh and /user answer user_banned; audited as user_modified', async () => {
    const { email, body } = await signUp(app);
    const r = await ban(body.user.id, '24h');
    expect(r.status).toBe(200);
    expect(near(r.body.banned_until, 24 * 3_600_000)).toBe(true);

    const signIn = await login(email);
    expect([signIn.status, signIn.body.code]).toEqual([400, 'user_banned']);
    const refreshed = await refresh(app, body.refresh_token);
    expect([refreshed.status, refreshed.body.code]).toEqual([400, 'user_banned']);
    const me = await whoAmI(body.access_token);
    expect([me.status, me.body.code]).toEqual([403, 'user_banned']);
    expect((await auditOf(db, body.user.id)).at(-1)).toMatchObject({ action: 'user_modified', actor_username: 'service_role' });
  });

  it('only tells a caller who knows the password that the user is banned', async () => {
    const { email, body } = await signUp(app);
    await ban(body.user.id, '1h');
    const wrong = await login(email, 'wrong-password');
    expect([wrong.status, wrong.body.code]).toEqual([400, 'invalid_credentials']);
  });

  it('ban_duration "none" lifts the ban: the old session refreshes again and the user signs in', async () => {
    const { email, body } = await signUp(app);
    await ban(body.user.id, '1h30m');
    expect((await refresh(app, body.refresh_token)).body.code).toBe('user_banned');
    const lifted = await ban(body.user.id, 'none');
    expect(lifted.status).toBe(200);
    expect(lifted.body.banned_until).toBeUndefined();
    expect((await refresh(app, body.refresh_token)).status).toBe(200);
    expect((await login(email)).status).toBe(200);
  });

  it('a ban that has run out no longer applies', async () => {
    const { email, body } = await signUp(app);
    const r = await ban(body.user.id, '-1s');
    expect(new Date(r.body.banned_until).getTime()).toBeLessThan(Date.now());
    expect((await login(email)).status).toBe(200);
  });

  it('POST /admin/users takes ban_duration: the user starts banned', async () => {
    const email = uniqueEmail('born-banned');
    const u = await adminCreate(app, deps, { email, password: 'pass-word-1', email_confirm: true, ban_duration: '2h' });
    expect(near(u.banned_until as string, 2 * 3_600_000)).toBe(true);
    expect((await login(email)).body.code).toBe('user_banned');
    expect((await adminCreate(app, deps, { email: uniqueEmail(), ban_duration: 'none' })).banned_until).toBeUndefined();
  });

  it.each(['24', '1d', 'forever', 'none please', '9999999999h'])('refuses ban_duration %j with 400 validation_failed and changes nothing', async (bad) => {
    const { email, body } = await signUp(app);
    const r = await ban(body.user.id, bad);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    expect((await login(email)).status).toBe(200);
    const c = await request(app).post('/admin/users').set(adminHeaders(deps)).send({ email: uniqueEmail(), ban_duration: bad });
    expect([c.status, c.body.code]).toEqual([400, 'validation_failed']);
  });
});
