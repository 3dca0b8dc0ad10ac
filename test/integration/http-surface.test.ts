import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createPasswordHasher } from '../../src/crypto/password-hasher';
import { signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, TEST_ARGON2, testDeps, uniqueEmail } from '../helpers/test-server';

const { db, app } = useTestApp();

describe('discovery', () => {
  it('GET /health names the server', async () => {
    const r = await request(app).get('/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: expect.any(String), name: 'GoTrue', description: expect.any(String) });
  });

  it('GET /settings lists providers and flags as GoTrue does', async () => {
    const r = await request(app).get('/auth/v1/settings');
    expect(r.body).toMatchObject({ disable_signup: false, mailer_autoconfirm: true, phone_autoconfirm: false, sms_provider: '', saml_enabled: false });
    expect(r.body.external).toMatchObject({ email: true, phone: false, anonymous_users: false, github: false, google: false });
  });

  it('GET /settings reflects the mail and phone settings', async () => {
    const configured = createApp(
      testDeps(db, { GOTRUE_MAILER_AUTOCONFIRM: 'false', GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_SMS_AUTOCONFIRM: 'true', GOTRUE_SMS_PROVIDER: 'twilio', GOTRUE_SMS_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', GOTRUE_SMS_TWILIO_AUTH_TOKEN: 'test-token', GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: 'MG00000000000000000000000000000000', GOTRUE_EXTERNAL_EMAIL_ENABLED: 'false' }),
    );
    const r = await request(configured).get('/settings');
    expect(r.body).toMatchObject({ mailer_autoconfirm: false, phone_autoconfirm: true, sms_provider: 'twilio' });
    expect(r.body.external).toMatchObject({ email: false, phone: true });
  });

  it('GET /settings reports which MFA factor types may be enrolled and verified', async () => {
    const defaults = await request(app).get('/settings');
    expect(defaults.body.mfa).toEqual({
      max_enrolled_factors: 10,
      totp: { enroll_enabled: true, verify_enabled: true },
      phone: { enroll_enabled: false, verify_enabled: false },
      recovery_codes: { enroll_enabled: false, verify_enabled: false },
    });
    const configured = createApp(testDeps(db, { GOTRUE_MFA_TOTP_ENROLL_ENABLED: 'false', GOTRUE_MFA_PHONE_ENROLL_ENABLED: 'true', GOTRUE_MFA_PHONE_VERIFY_ENABLED: 'true', GOTRUE_MFA_RECOVERY_CODES_VERIFY_ENABLED: 'true' }));
    const r = await request(configured).get('/settings');
    expect(r.body.mfa).toMatchObject({ totp: { enroll_enabled: false, verify_enabled: true }, phone: { enroll_enabled: true, verify_enabled: true }, recovery_codes: { enroll_enabled: false, verify_enabled: true } });
  });
});

describe('error bodies', () => {
  it('are {code, message} for API version 2024-01-01, with the version echoed and x-sb-error-code set', async () => {
    const r = await request(app).post('/signup').set(API_VERSION).set('Content-Type', 'application/json').send('{oops');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 'bad_json', message: expect.any(String) });
    expect(r.headers['x-supabase-api-version']).toBe('2024-01-01');
    expect(r.headers['x-sb-error-code']).toBe('bad_json');
  });

  it('are GoTrue’s legacy shape without the version header', async () => {
    const r = await request(app).post('/signup').set('Content-Type', 'application/json').send('{oops');
    expect(r.body).toEqual({ code: 400, error_code: 'bad_json', msg: expect.any(String) });
    expect(r.headers['x-supabase-api-version']).toBeUndefined();
  });

  it('answer a body over 1 MiB with 413', async () => {
    const r = await request(app).post('/signup').set(API_VERSION).set('Content-Type', 'application/json').send(JSON.stringify({ email: 'a@b.co', data: { x: 'y'.repeat(1_100_000) } }));
    expect([r.status, r.body.code]).toEqual([413, 'request_entity_too_large']);
  });

  it('answer an unknown path with 404 not_found', async () => {
    const r = await request(app).get('/nowhere').set(API_VERSION);
    expect([r.status, r.body.code]).toEqual([404, 'not_found']);
  });

  it('turn an unexpected failure into 500 unexpected_failure with an error_id and no detail', async () => {
    const real = createPasswordHasher(TEST_ARGON2);
    const broken = createApp(
      testDeps(db, {}, { hasher: { ...real, hash: async () => { throw new Error('connection to db:5432 password=hunter2 refused'); } } }),
    );
    const r = await request(broken).post('/signup').send({ email: uniqueEmail(), password: 'pass-word-1' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ code: 500, error_code: 'unexpected_failure', error_id: expect.any(String) });
    expect(JSON.stringify(r.body)).not.toMatch(/hunter2|5432/);
  });
});

describe('request timeout', () => {
  it('answers 504 request_timeout when a request outlives API_MAX_REQUEST_DURATION', async () => {
    const real = createPasswordHasher(TEST_ARGON2);
    const slow = createApp(
      testDeps(db, { GOTRUE_API_MAX_REQUEST_DURATION: '100ms' }, { hasher: { ...real, hash: async (pw) => { await new Promise((r) => setTimeout(r, 400)); return real.hash(pw); } } }),
    );
    const r = await request(slow).post('/signup').set(API_VERSION).send({ email: uniqueEmail(), password: 'pass-word-1' });
    expect([r.status, r.body.code]).toEqual([504, 'request_timeout']);
    await new Promise((r) => setTimeout(r, 500));
  });
});

describe('CORS', () => {
  it('answers preflight for any origin with GoTrue’s headers', async () => {
    const r = await request(app)
      .options('/auth/v1/token')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,apikey,x-client-info,x-supabase-api-version,content-type');
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    expect(r.headers['access-control-allow-headers']).toMatch(/apikey/);
  });

  it('exposes the pagination and version headers', async () => {
    const r = await request(app).get('/health').set('Origin', 'https://app.example.com');
    expect(r.headers['access-control-expose-headers']).toBe('X-Total-Count,Link,X-Supabase-Api-Version');
  });
});

describe('invalid input never yields a 5xx', () => {
  let token = '';
  beforeAll(async () => {
    token = (await signUp(app)).body.access_token;
  });

  type Case = [string, string, string, unknown, number, string];
  const cases: Case[] = [
    // method, path, auth?, body, status, error_code
    ['POST', '/signup', '', undefined, 400, 'bad_json'],
    ['POST', '/signup', '', '[]', 400, 'bad_json'],
    ['POST', '/signup', '', '"just a string"', 400, 'bad_json'],
    ['POST', '/signup', '', { email: 42, password: 'pass-word-1' }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'not-an-email', password: 'pass-word-1' }, 400, 'email_address_invalid'],
    ['POST', '/signup', '', { email: `${'a'.repeat(250)}@b.com`, password: 'pass-word-1' }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co' }, 422, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co', password: 'x'.repeat(2000) }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co', password: 'x'.repeat(73) }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co', password: 'pass-word-1', phone: '+15550001111' }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co', password: 'pass-word-1', data: 'string' }, 400, 'validation_failed'],
    ['POST', '/signup', '', { email: 'a@b.co', password: 'pass-word-1', data: [1] }, 400, 'validation_failed'],
    ['POST', '/signup', '', { phone: '+15550001111', password: 'pass-word-1' }, 400, 'phone_provider_disabled'],
    ['POST', '/token?grant_type=password', '', undefined, 400, 'bad_json'],
    ['POST', '/token?grant_type=password', '', {}, 400, 'validation_failed'],
    ['POST', '/token?grant_type=password', '', { password: 'x' }, 400, 'validation_failed'],
    ['POST', '/token?grant_type=password', '', { email: 'bad', password: 'x' }, 400, 'email_address_invalid'],
    ['POST', '/token?grant_type=password', '', { email: 'a@b.co', password: 7 }, 400, 'validation_failed'],
    ['POST', '/token?grant_type=password', '', { phone: 'abc', password: 'x' }, 400, 'phone_provider_disabled'],
    ['POST', '/token', '', {}, 400, 'invalid_credentials'],
    ['POST', '/token?grant_type=__proto__', '', {}, 400, 'invalid_credentials'],
    ['POST', '/token?grant_type=refresh_token', '', {}, 400, 'validation_failed'],
    ['POST', '/token?grant_type=refresh_token', '', { refresh_token: '' }, 400, 'validation_failed'],
    ['POST', '/token?grant_type=refresh_token', '', { refresh_token: ['a'] }, 400, 'validation_failed'],
    ['POST', '/token?grant_type=refresh_token', '', { refresh_token: "' or 1=1 --" }, 400, 'refresh_token_not_found'],
    ['POST', '/token?grant_type=refresh_token', '', { refresh_token: 'x'.repeat(600) }, 400, 'validation_failed'],
    ['GET', '/user', '', undefined, 401, 'no_authorization'],
    ['GET', '/user', 'Basic abc', undefined, 401, 'no_authorization'],
    ['GET', '/user', 'Bearer x.y.z', undefined, 403, 'bad_jwt'],
    ['PUT', '/user', 'TOKEN', undefined, 400, 'bad_json'],
    ['PUT', '/user', 'TOKEN', { data: 5 }, 400, 'validation_failed'],
    ['PUT', '/user', 'TOKEN', { password: 'a' }, 422, 'weak_password'],
    ['PUT', '/user', 'TOKEN', { email: 'nope' }, 400, 'email_address_invalid'],
    ['PUT', '/user', 'TOKEN', { app_metadata: { role: 'admin' } }, 403, 'not_admin'],
    ['PUT', '/user', '', { data: {} }, 401, 'no_authorization'],
    ['POST', '/logout?scope=all', 'TOKEN', undefined, 400, 'validation_failed'],
    ['POST', '/logout', '', undefined, 401, 'no_authorization'],
  ];

  it.each(cases)('%s %s (auth %j) body %j → %i %s', async (method, path, auth, body, status, code) => {
    let r = request(app)[method.toLowerCase() as 'post' | 'get' | 'put'](path).set(API_VERSION);
    if (auth === 'TOKEN') r = r.set('Authorization', `Bearer ${token}`);
    else if (auth) r = r.set('Authorization', auth);
    if (typeof body === 'string') r = r.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) r = r.send(body as object);
    const res = await r;
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.headers['x-sb-error-code']).toBe(code);
  });
});
