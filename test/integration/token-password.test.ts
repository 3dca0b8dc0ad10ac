import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { claimsOf, signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, testDeps, uniqueEmail } from '../helpers/test-server';

const { db, app } = useTestApp();

const login = (body: Record<string, unknown>, a = app) => request(a).post('/token?grant_type=password').set(API_VERSION).send(body);

describe('POST /token?grant_type=password', () => {
  it('signs in, starts a new session each time and records last_sign_in_at and a login audit row', async () => {
    const { email, password, body: first } = await signUp(app);
    const second = await signIn(app, email, password);
    expect(claimsOf(second.access_token).session_id).not.toBe(claimsOf(first.access_token).session_id);
    expect(second.user.last_sign_in_at).toBeTypeOf('string');
    const sessions = await db.db.selectFrom('sessions').select('id').where('user_id', '=', first.user.id).execute();
    expect(sessions).toHaveLength(2);
    const audits = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    expect(audits.filter((a) => (a.payload as Record<string, unknown>).actor_id === first.user.id && (a.payload as Record<string, unknown>).action === 'login')).toHaveLength(2);
  });

  it('answers unknown user and wrong password identically', async () => {
    const { email } = await signUp(app);
    const wrong = await login({ email, password: 'not-the-password' });
    const unknown = await login({ email: uniqueEmail('nobody'), password: 'not-the-password' });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ code: 'invalid_credentials', message: 'Invalid login credentials' });
    }
  });

  it('refuses a banned user only once the password is right', async () => {
    const { email, password, body } = await signUp(app);
    await db.db.updateTable('users').set({ banned_until: new Date(Date.now() + 3_600_000) }).where('id', '=', body.user.id).execute();
    expect((await login({ email, password: 'wrong-password' })).body.code).toBe('invalid_credentials');
    const r = await login({ email, password });
    expect([r.status, r.body.code]).toEqual([400, 'user_banned']);
  });

  it('adds weak_password when the right password no longer meets the policy', async () => {
    const { email, password } = await signUp(app, uniqueEmail(), 'short1');
    const strict = createApp(testDeps(db, { GOTRUE_PASSWORD_MIN_LENGTH: '10' }));
    const r = await login({ email, password }, strict);
    expect(r.status).toBe(200);
    expect(r.body.weak_password).toEqual({ message: 'Password should be at least 10 characters.', reasons: ['length'] });
  });

  it.each([
    ['bcrypt $2a$', async (pw: string) => (await bcrypt.hash(pw, 4)).replace(/^\$2b\$/, '$2a$')],
    ['bcrypt $2y$', async (pw: string) => (await bcrypt.hash(pw, 4)).replace(/^\$2b\$/, '$2y$')],
    ['argon2i', (pw: string) => argon2.hash(pw, { type: argon2.argon2i, memoryCost: 1024, timeCost: 1, parallelism: 1 })],
  ])('signs in a user imported with a %s hash and rehashes it to argon2id', async (_name, make) => {
    const { email, body } = await signUp(app);
    const hash = await make('imported-secret');
    await db.db.updateTable('users').set({ encrypted_password: hash }).where('id', '=', body.user.id).execute();
    expect((await login({ email, password: 'imported-secret' })).status).toBe(200);
    const row = await db.db.selectFrom('users').select('encrypted_password').where('id', '=', body.user.id).executeTakeFirstOrThrow();
    expect(row.encrypted_password).toMatch(/^\$argon2id\$/);
    expect((await login({ email, password: 'imported-secret' })).status).toBe(200);
  });

  it('is refused when the email provider is disabled', async () => {
    const off = createApp(testDeps(db, { GOTRUE_EXTERNAL_EMAIL_ENABLED: 'false' }));
    const r = await login({ email: uniqueEmail(), password: 'x' }, off);
    expect([r.status, r.body.code]).toEqual([400, 'email_provider_disabled']);
  });

  it('answers an unknown grant type with unsupported_grant_type', async () => {
    const r = await request(app).post('/token?grant_type=magic').set(API_VERSION).send({});
    expect([r.status, r.body.code, r.body.message]).toEqual([400, 'invalid_credentials', 'unsupported_grant_type']);
  });

  it('is rate limited per client address', async () => {
    const limited = createApp(testDeps(db, { GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '3', GOTRUE_RATE_LIMIT_HEADER: 'X-Real-Ip' }));
    const send = (ip: string) => request(limited).post('/token?grant_type=password').set(API_VERSION).set('X-Real-Ip', ip).send({ email: 'a@b.co', password: 'x' });
    for (let i = 0; i < 3; i++) expect((await send('10.0.0.1')).status).toBe(400);
    const over = await send('10.0.0.1');
    expect([over.status, over.body.code]).toEqual([429, 'over_request_rate_limit']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send('10.0.0.2')).status).toBe(400);
  });
});
