import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { adminHeaders } from '../helpers/admin';
import { GOOD_CAPTCHA_TOKEN, startCaptchaStandIn } from '../helpers/captcha-stand-in';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';
import { refusingUrl, startVendorStandIn, type VendorStandIn } from '../helpers/vendor-stand-in';

const SECRET = '0x0000000000000000000000000000000000000000';
const captchaEnv = (provider: string, url: string) => ({
  GOTRUE_SECURITY_CAPTCHA_ENABLED: 'true',
  GOTRUE_SECURITY_CAPTCHA_PROVIDER: provider,
  GOTRUE_SECURITY_CAPTCHA_SECRET: SECRET,
  GOTRUE_SECURITY_CAPTCHA_VERIFY_URL: url,
  GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true',
});
const withToken = (body: Record<string, unknown>, token?: string) => (token === undefined ? body : { ...body, gotrue_meta_security: { captcha_token: token } });

/** Every route GoTrue's verifyCaptcha guards, with a body that passes once the token does. */
const GUARDED: [string, () => Record<string, unknown>][] = [
  ['/signup', () => ({ email: uniqueEmail('cap'), password: 'pass-word-1' })],
  ['/signup', () => ({})], // anonymous sign-in
  ['/token?grant_type=password', () => ({ email: uniqueEmail('cap'), password: 'pass-word-1' })],
  ['/otp', () => ({ email: uniqueEmail('cap') })],
  ['/magiclink', () => ({ email: uniqueEmail('cap') })],
  ['/recover', () => ({ email: uniqueEmail('cap') })],
  ['/resend', () => ({ type: 'signup', email: uniqueEmail('cap') })],
];

// One database for the file (each app's own would cost a migration): the hCaptcha app opens it, the others share it.
let stand: VendorStandIn;
beforeAll(async () => {
  stand = await startCaptchaStandIn('hcaptcha', SECRET);
});
afterAll(() => stand.close());
const t = useTestApp({ listen: true, env: () => captchaEnv('hcaptcha', stand.url) });

describe('CAPTCHA with hCaptcha', () => {

  it('auth-js signUp with options.captchaToken passes, and the token, secret and client IP reach the provider', async () => {
    const email = uniqueEmail('cap');
    const before = stand.requests.length;
    const { data, error } = await t.client().signUp({ email, password: 'pass-word-1', options: { captchaToken: GOOD_CAPTCHA_TOKEN } });
    expect(error).toBeNull();
    expect(data.user?.email).toBe(email);
    const sent = stand.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('POST');
    expect(sent[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent[0]!.form).toEqual({ secret: SECRET, response: GOOD_CAPTCHA_TOKEN, remoteip: '127.0.0.1' });
  });

  it('auth-js signUp without a token fails with captcha_failed', async () => {
    const { error } = await t.client().signUp({ email: uniqueEmail('cap'), password: 'pass-word-1' });
    expect(error?.status).toBe(400);
    expect(error?.code).toBe('captcha_failed');
  });

  it('auth-js signInWithPassword carries the token', async () => {
    const email = uniqueEmail('cap');
    await t.client().signUp({ email, password: 'pass-word-1', options: { captchaToken: GOOD_CAPTCHA_TOKEN } });
    const refused = await t.client().signInWithPassword({ email, password: 'pass-word-1', options: { captchaToken: 'wrong' } });
    expect(refused.error?.code).toBe('captcha_failed');
    const ok = await t.client().signInWithPassword({ email, password: 'pass-word-1', options: { captchaToken: GOOD_CAPTCHA_TOKEN } });
    expect(ok.error).toBeNull();
    expect(ok.data.session?.access_token).toBeTruthy();
  });

  it.each(GUARDED)('%s without a token: 400 captcha_failed, nothing asked of the provider', async (path, body) => {
    const before = stand.requests.length;
    for (const token of [undefined, '', '   ']) {
      const r = await request(t.app).post(path).set(API_VERSION).send(withToken(body(), token));
      expect([r.status, r.body.code, r.body.message]).toEqual([400, 'captcha_failed', 'captcha protection: request disallowed (no captcha_token found)']);
    }
    expect(stand.requests.length).toBe(before);
  });

  it.each(GUARDED)('%s with a refused token: 400 captcha_failed naming the provider’s codes', async (path, body) => {
    const r = await request(t.app).post(path).set(API_VERSION).send(withToken(body(), 'forged'));
    expect([r.status, r.body.code, r.body.message]).toEqual([400, 'captcha_failed', 'captcha protection: request disallowed (invalid-input-response)']);
  });

  it.each(GUARDED)('%s with a good token reaches the handler', async (path, body) => {
    const r = await request(t.app).post(path).set(API_VERSION).send(withToken(body(), GOOD_CAPTCHA_TOKEN));
    expect(r.body.code).not.toBe('captcha_failed');
    expect(r.status).not.toBe(500);
  });

  it.each([
    ['/token?grant_type=refresh_token', { refresh_token: 'nope' }],
    ['/token?grant_type=pkce', { auth_code: 'nope', code_verifier: 'x'.repeat(43) }],
    ['/token?grant_type=id_token', { provider: 'google', id_token: 'nope' }],
    ['/verify', { type: 'signup', token_hash: 'nope' }],
  ])('%s is not guarded (GoTrue lets it through)', async (path, body) => {
    const r = await request(t.app).post(path).set(API_VERSION).send(body);
    expect(r.body.code).not.toBe('captcha_failed');
  });

  it.each([
    ['an array body', [], 400, 'bad_json'],
    ['a string body', '"x"', 400, 'bad_json'],
    ['gotrue_meta_security as a string', { gotrue_meta_security: 'token' }, 400, 'validation_failed'],
    ['captcha_token as a number', { gotrue_meta_security: { captcha_token: 123 } }, 400, 'validation_failed'],
    ['captcha_token as an object', { gotrue_meta_security: { captcha_token: { a: 1 } } }, 400, 'validation_failed'],
    ['gotrue_meta_security null', { gotrue_meta_security: null }, 400, 'captcha_failed'],
    ['captcha_token null', { gotrue_meta_security: { captcha_token: null } }, 400, 'captcha_failed'],
  ])('refuses %s with a clear 4xx before asking the provider', async (_n, body, status, code) => {
    const before = stand.requests.length;
    const r = await request(t.app).post('/recover').set(API_VERSION).set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
    expect([r.status, r.body.code]).toEqual([status, code]);
    expect(stand.requests.length).toBe(before);
  });

  it('an unknown grant type is guarded, as GoTrue does', async () => {
    const r = await request(t.app).post('/token?grant_type=web3').set(API_VERSION).send({});
    expect(r.body.code).toBe('captcha_failed');
  });

  it('an admin caller needs no token', async () => {
    const r = await request(t.app).post('/recover').set(adminHeaders(t.deps)).send({ email: uniqueEmail('cap') });
    expect(r.status).toBe(200);
  });

  it('a non-admin bearer token does not skip the check', async () => {
    const { data } = await t.client().signUp({ email: uniqueEmail('cap'), password: 'pass-word-1', options: { captchaToken: GOOD_CAPTCHA_TOKEN } });
    const r = await request(t.app).post('/recover').set(API_VERSION).set('Authorization', `Bearer ${data.session!.access_token}`).send({ email: uniqueEmail('cap') });
    expect(r.body.code).toBe('captcha_failed');
  });
});

describe('CAPTCHA with Turnstile', () => {
  let turnstile: VendorStandIn;
  beforeAll(async () => {
    turnstile = await startCaptchaStandIn('turnstile', SECRET);
  });
  afterAll(() => turnstile.close());
  const ts = useTestApp({ db: t.db, listen: true, env: () => captchaEnv('turnstile', turnstile.url) });

  it('passes a good token and refuses a bad one with Turnstile’s error codes', async () => {
    const ok = await ts.client().signUp({ email: uniqueEmail('ts'), password: 'pass-word-1', options: { captchaToken: GOOD_CAPTCHA_TOKEN } });
    expect(ok.error).toBeNull();
    const bad = await ts.client().signInWithOtp({ email: uniqueEmail('ts'), options: { captchaToken: 'expired-one' } });
    expect(bad.error?.code).toBe('captcha_failed');
    expect(bad.error?.message).toBe('captcha protection: request disallowed (invalid-input-response)');
  });
});

describe('CAPTCHA provider unreachable or answering nonsense', () => {
  let url: string;
  let broken: VendorStandIn;
  beforeAll(async () => {
    url = await refusingUrl();
    broken = await startVendorStandIn({ status: 502, json: 'not an object' });
  });
  afterAll(() => broken.close());
  const down = useTestApp({ db: t.db, env: () => captchaEnv('hcaptcha', url) });

  it('answers GoTrue’s 500 (never a pass) when the provider cannot be reached', async () => {
    const r = await request(down.app).post('/recover').set(API_VERSION).send(withToken({ email: uniqueEmail('cap') }, GOOD_CAPTCHA_TOKEN));
    expect([r.status, r.body.code, r.body.message]).toEqual([500, 'unexpected_failure', 'captcha verification process failed']);
  });

  const nonsense = useTestApp({ db: t.db, env: () => captchaEnv('hcaptcha', broken.url) });
  it('answers the same 500 when the provider’s answer is not a JSON object', async () => {
    const r = await request(nonsense.app).post('/otp').set(API_VERSION).send(withToken({ email: uniqueEmail('cap') }, GOOD_CAPTCHA_TOKEN));
    expect([r.status, r.body.code]).toEqual([500, 'unexpected_failure']);
    expect(broken.requests).toHaveLength(1);
  });
});

describe('CAPTCHA settings', () => {
  const env = { GOTRUE_SECURITY_CAPTCHA_ENABLED: 'true' };
  it.each([
    [{ ...env }, 'GOTRUE_SECURITY_CAPTCHA_SECRET: required'],
    [{ ...env, GOTRUE_SECURITY_CAPTCHA_SECRET: 's', GOTRUE_SECURITY_CAPTCHA_PROVIDER: 'recaptcha' }, 'unsupported captcha provider: recaptcha'],
    [{ ...env, GOTRUE_SECURITY_CAPTCHA_SECRET: 's', GOTRUE_SECURITY_CAPTCHA_TIMEOUT: 'soon' }, 'GOTRUE_SECURITY_CAPTCHA_TIMEOUT'],
    [{ ...env, GOTRUE_SECURITY_CAPTCHA_SECRET: 's', GOTRUE_SECURITY_CAPTCHA_VERIFY_URL: 'not a url' }, 'GOTRUE_SECURITY_CAPTCHA_VERIFY_URL'],
  ])('refuses %o', (e, problem) => {
    expect(() => loadConfig(e)).toThrow(problem);
  });

  it('defaults as GoTrue: off, hcaptcha, 10 s, the provider’s siteverify URL', () => {
    expect(loadConfig({}).captcha).toMatchObject({ enabled: false, provider: 'hcaptcha', timeoutMs: 10_000, verifyUrl: 'https://hcaptcha.com/siteverify' });
    const ts = loadConfig({ ...env, GOTRUE_SECURITY_CAPTCHA_SECRET: ' s ', GOTRUE_SECURITY_CAPTCHA_PROVIDER: 'turnstile', GOTRUE_SECURITY_CAPTCHA_TIMEOUT: '3s' }).captcha;
    expect(ts).toMatchObject({ enabled: true, provider: 'turnstile', secret: 's', timeoutMs: 3000, verifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify' });
  });
});
