import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, testDeps, uniqueEmail } from '../helpers/test-server';
import { createApp } from '../../src/app';
import { claimsOf, signUp } from '../helpers/flows';

const { db, app } = useTestApp();
const { app: unconfirmedApp } = useTestApp({ db, env: { GOTRUE_MAILER_AUTOCONFIRM: 'false' } });

describe('POST /signup', () => {
  it('with autoconfirm returns a session whose user and identity look like GoTrue’s', async () => {
    const { email, body } = await signUp(app, uniqueEmail('Mixed.Case').replace('mixed', 'MiXeD'), 'pass-word-1', { nick: 'n' });
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    const u = body.user;
    expect(u.email).toBe(email.toLowerCase());
    expect(u).toMatchObject({
      aud: 'authenticated',
      role: 'authenticated',
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { nick: 'n', email: email.toLowerCase(), email_verified: true, phone_verified: false, sub: u.id },
      is_anonymous: false,
    });
    expect(u.email_confirmed_at).toBeTypeOf('string');
    expect(u.identities).toHaveLength(1);
    expect((u.identities as Record<string, unknown>[])[0]).toMatchObject({ id: u.id, user_id: u.id, provider: 'email', email: email.toLowerCase() });
    const claims = claimsOf(body.access_token);
    expect(Object.keys(claims)).toEqual(['sub', 'aud', 'exp', 'iat', 'email', 'phone', 'app_metadata', 'user_metadata', 'role', 'aal', 'amr', 'session_id', 'is_anonymous']);
    expect(claims).toMatchObject({ sub: u.id, aud: 'authenticated', role: 'authenticated', aal: 'aal1', is_anonymous: false });
    expect((claims.amr as { method: string }[])[0]!.method).toBe('password');
  });

  it('writes user_signedup and login audit rows in the same transaction', async () => {
    const { body } = await signUp(app);
    const rows = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    const mine = rows.map((r) => r.payload as Record<string, unknown>).filter((p) => p.actor_id === body.user.id);
    expect(mine.map((p) => p.action).sort()).toEqual(['login', 'user_signedup']);
    expect(mine[0]).toMatchObject({ actor_username: body.user.email, actor_via_sso: false });
  });

  it('without autoconfirm stores an unconfirmed user and returns it without a session', async () => {
    const email = uniqueEmail();
    const res = await request(unconfirmedApp).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1' });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.email).toBe(email);
    expect(res.body.email_confirmed_at).toBeUndefined();
    expect(res.body.identities).toHaveLength(1);
    const login = await request(unconfirmedApp).post('/token?grant_type=password').set(API_VERSION).send({ email, password: 'pass-word-1' });
    expect(login.status).toBe(400);
    expect(login.body.code).toBe('email_not_confirmed');
  });

  it('for a confirmed address without autoconfirm answers 200 with a look-alike user and changes nothing', async () => {
    const { email, body } = await signUp(app);
    const res = await request(unconfirmedApp).post('/signup').set(API_VERSION).send({ email, password: 'another-pw-1' });
    expect(res.status).toBe(200);
    expect(res.body.id).not.toBe(body.user.id);
    expect(res.body.email).toBe(email);
    expect(res.body.identities).toEqual([]);
    const stillOld = await request(app).post('/token?grant_type=password').set(API_VERSION).send({ email, password: 'pass-word-1' });
    expect(stillOld.status).toBe(200);
  });

  it('for an existing address with autoconfirm is 422 user_already_exists', async () => {
    const { email } = await signUp(app);
    const res = await request(app).post('/signup').set(API_VERSION).send({ email: email.toUpperCase(), password: 'pass-word-1' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('user_already_exists');
  });

  it('of the same address twice at once creates one user', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all([1, 2, 3, 4].map(() => request(app).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1' })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 422).every((r) => r.body.code === 'user_already_exists')).toBe(true);
    const rows = await db.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(rows).toHaveLength(1);
  });

  it('rejects weak passwords with GoTrue’s reasons', async () => {
    const strict = createApp(testDeps(db, { GOTRUE_PASSWORD_MIN_LENGTH: '10', GOTRUE_PASSWORD_REQUIRED_CHARACTERS: 'abcdefghijklmnopqrstuvwxyz:0123456789' }));
    const res = await request(strict).post('/signup').set(API_VERSION).send({ email: uniqueEmail(), password: 'ABCDEFG' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('weak_password');
    expect(res.body.weak_password.reasons).toEqual(['length', 'characters']);
    expect(res.body.message).toMatch(/at least 10 characters/);
    expect(res.headers['x-sb-error-code']).toBe('weak_password');
  });

  it('honours GOTRUE_DISABLE_SIGNUP and a disabled email provider', async () => {
    const closed = createApp(testDeps(db, { GOTRUE_DISABLE_SIGNUP: 'true' }));
    const r1 = await request(closed).post('/signup').set(API_VERSION).send({ email: uniqueEmail(), password: 'pass-word-1' });
    expect([r1.status, r1.body.code]).toEqual([422, 'signup_disabled']);
    const noEmail = createApp(testDeps(db, { GOTRUE_EXTERNAL_EMAIL_ENABLED: 'false' }));
    const r2 = await request(noEmail).post('/signup').set(API_VERSION).send({ email: uniqueEmail(), password: 'pass-word-1' });
    expect([r2.status, r2.body.code]).toEqual([400, 'email_provider_disabled']);
  });

  it('with a phone (provider enabled, SMS autoconfirm) signs in by phone', async () => {
    const phoneApp = createApp(testDeps(db, { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_SMS_AUTOCONFIRM: 'true' }));
    const phone = `+1 555 ${String(Date.now()).slice(-7)}`;
    const res = await request(phoneApp).post('/signup').set(API_VERSION).send({ phone, password: 'pass-word-1' });
    expect(res.status).toBe(200);
    expect(res.body.user.phone).toBe(phone.replace(/[^0-9]/g, ''));
    expect(res.body.user.app_metadata.provider).toBe('phone');
    const login = await request(phoneApp).post('/token?grant_type=password').set(API_VERSION).send({ phone, password: 'pass-word-1' });
    expect(login.status).toBe(200);
  });

  it('with neither email nor phone is an anonymous sign-in when enabled, else 422', async () => {
    const off = await request(app).post('/signup').set(API_VERSION).send({});
    expect([off.status, off.body.code]).toEqual([422, 'anonymous_provider_disabled']);
    const anonApp = createApp(testDeps(db, { GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true' }));
    const on = await request(anonApp).post('/signup').set(API_VERSION).send({ data: { theme: 'dark' } });
    expect(on.status).toBe(200);
    expect(on.body.user).toMatchObject({ is_anonymous: true, app_metadata: {}, user_metadata: { theme: 'dark' }, identities: [], email: '' });
    const claims = claimsOf(on.body.access_token);
    expect(claims).toMatchObject({ is_anonymous: true, role: 'authenticated' });
    expect((claims.amr as { method: string }[])[0]!.method).toBe('anonymous');
  });
});
