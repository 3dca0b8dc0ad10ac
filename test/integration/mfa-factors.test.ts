import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { totpCodeAt } from '../../src/crypto/totp';
import { claimsOf, refresh, signIn, signUp } from '../helpers/flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION } from '../helpers/test-server';

let offsetMs = 0;
const serverNow = () => new Date(Date.now() + offsetMs);
const VAULT = `mfa:${Buffer.alloc(32, 9).toString('base64')}`;

const sms = recordingSms();
const main = useTestApp({
  env: {
    GOTRUE_MFA_MAX_ENROLLED_FACTORS: '3',
    GOTRUE_MFA_PHONE_VERIFY_ENABLED: 'true',
    GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: VAULT,
    GOTRUE_SESSIONS_ALLOW_LOW_AAL: '10m',
    GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '100000',
  },
  overrides: { clock: { now: serverNow }, sms },
});

const as = (token: string) => ({ Authorization: `Bearer ${token}`, ...API_VERSION });

async function enrolTotp(token: string, name: string) {
  const r = await request(main.app).post('/factors').set(as(token)).send({ factor_type: 'totp', friendly_name: name });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { id: string; totp: { secret: string; qr_code: string; uri: string } };
}

async function verifyTotp(token: string, factorId: string, secret: string) {
  const c = await request(main.app).post(`/factors/${factorId}/challenge`).set(as(token)).send({});
  expect(c.status, JSON.stringify(c.body)).toBe(200);
  return request(main.app).post(`/factors/${factorId}/verify`).set(as(token)).send({ challenge_id: c.body.id, code: totpCodeAt(secret, serverNow()) });
}

describe('/factors rules and limits', () => {
  it('keeps the TOTP secret sealed with the vault key at rest, and returns the QR code as GoTrue does (SVG markup)', async () => {
    const s = await signUp(main.app);
    const f = await enrolTotp(s.body.access_token, 'sealed');
    expect(f.totp.qr_code).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const row = await main.db.db.selectFrom('mfa_factors').select(['secret', 'status', 'friendly_name']).where('id', '=', f.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'unverified', friendly_name: 'sealed' });
    expect(row.secret).toMatch(/^vault:v1:mfa:/);
    expect(row.secret).not.toContain(f.totp.secret);
    const v = await verifyTotp(s.body.access_token, f.id, f.totp.secret);
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    expect(v.headers['cache-control']).toBe('no-store');
  });

  it('limits a user to GOTRUE_MFA_MAX_ENROLLED_FACTORS factors', async () => {
    const s = await signUp(main.app);
    for (const n of ['a', 'b', 'c']) await enrolTotp(s.body.access_token, n);
    const r = await request(main.app).post('/factors').set(as(s.body.access_token)).send({ factor_type: 'totp', friendly_name: 'd' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('too_many_enrolled_mfa_factors');
  });

  it('sweeps unverified factors older than GOTRUE_MFA_FACTOR_EXPIRY_DURATION that were never challenged', async () => {
    const s = await signUp(main.app);
    for (const n of ['a', 'b', 'c']) await enrolTotp(s.body.access_token, n);
    offsetMs += 301_000;
    await enrolTotp(s.body.access_token, 'after the sweep');
    const names = (await main.db.db.selectFrom('mfa_factors').select('friendly_name').where('user_id', '=', s.body.user.id).execute()).map((r) => r.friendly_name);
    expect(names).toEqual(['after the sweep']);
  });

  it('refuses phone enrolment while GOTRUE_MFA_PHONE_ENROLL_ENABLED is off', async () => {
    const s = await signUp(main.app);
    const r = await request(main.app).post('/factors').set(as(s.body.access_token)).send({ factor_type: 'phone', phone: `+${uniquePhone()}` });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('mfa_phone_enroll_not_enabled');
  });

  it('GOTRUE_SESSIONS_ALLOW_LOW_AAL: an aal1 session of a user with a verified factor stops refreshing after the allowance', async () => {
    const s = await signUp(main.app);
    const f = await enrolTotp(s.body.access_token, 'app');
    expect((await verifyTotp(s.body.access_token, f.id, f.totp.secret)).status).toBe(200);
    const low = await signIn(main.app, s.email, s.password);
    expect(claimsOf(low.access_token).aal).toBe('aal1');
    const early = await refresh(main.app, low.refresh_token);
    expect(early.status).toBe(200);
    offsetMs += 11 * 60_000;
    const late = await refresh(main.app, early.body.refresh_token);
    expect(late.status).toBe(400);
    expect(late.body.code).toBe('session_expired');
  });

  it('verifying swaps the refresh token: the aal1 token the session had cannot mint aal2 tokens', async () => {
    const s = await signUp(main.app);
    const f = await enrolTotp(s.body.access_token, 'app');
    const v = await verifyTotp(s.body.access_token, f.id, f.totp.secret);
    expect(v.status).toBe(200);
    expect(v.body.refresh_token).not.toBe(s.body.refresh_token);
    const old = await refresh(main.app, s.body.refresh_token);
    expect(old.status).toBe(400);
    expect(old.body.code).toBe('refresh_token_already_used');
  });
});

describe('every /factors route answers bad input with a 4xx JSON error_code, never a 5xx', () => {
  let token = '';
  let totpId = '';
  let phoneId = '';
  beforeAll(async () => {
    const s = await signUp(main.app);
    token = s.body.access_token;
    totpId = (await enrolTotp(token, 'totp')).id;
    // Phone enrolment is off in this app; the row is the test's own, as an admin import would write it.
    phoneId = crypto.randomUUID();
    const now = new Date();
    await main.db.db
      .insertInto('mfa_factors')
      .values({ id: phoneId, user_id: s.body.user.id, friendly_name: 'phone', factor_type: 'phone', status: 'unverified', created_at: now, updated_at: now, phone: uniquePhone() })
      .execute();
  });

  const long = 'x'.repeat(5000);
  const unknown = '00000000-0000-4000-8000-000000000000';
  type Row = [string, 'post' | 'delete', () => string, unknown, number, string];
  const rows: Row[] = [
    ['enrol: no factor_type', 'post', () => '/factors', {}, 400, 'validation_failed'],
    ['enrol: unknown factor_type', 'post', () => '/factors', { factor_type: 'sms' }, 400, 'validation_failed'],
    ['enrol: factor_type not a string', 'post', () => '/factors', { factor_type: 7 }, 400, 'validation_failed'],
    ['enrol: friendly_name an object', 'post', () => '/factors', { factor_type: 'totp', friendly_name: { a: 1 } }, 400, 'validation_failed'],
    ['enrol: friendly_name with NUL', 'post', () => '/factors', { factor_type: 'totp', friendly_name: 'a\u0000b' }, 400, 'validation_failed'],
    ['enrol: friendly_name too long', 'post', () => '/factors', { factor_type: 'totp', friendly_name: long }, 400, 'validation_failed'],
    ['enrol: issuer an array', 'post', () => '/factors', { factor_type: 'totp', issuer: ['x'] }, 400, 'validation_failed'],
    ['enrol: webauthn', 'post', () => '/factors', { factor_type: 'webauthn' }, 422, 'mfa_webauthn_enroll_not_enabled'],
    ['enrol: body an array', 'post', () => '/factors', [1, 2], 400, 'bad_json'],
    ['enrol: body a string', 'post', () => '/factors', '"totp"', 400, 'bad_json'],
    ['challenge: factor id not a UUID', 'post', () => '/factors/not-a-uuid/challenge', {}, 404, 'validation_failed'],
    ['challenge: unknown factor', 'post', () => `/factors/${unknown}/challenge`, {}, 404, 'mfa_factor_not_found'],
    ['challenge: channel not a string', 'post', () => `/factors/${phoneId}/challenge`, { channel: 5 }, 400, 'validation_failed'],
    ['challenge: unknown channel', 'post', () => `/factors/${phoneId}/challenge`, { channel: 'pigeon' }, 400, 'validation_failed'],
    ['challenge: whatsapp without Twilio', 'post', () => `/factors/${phoneId}/challenge`, { channel: 'whatsapp' }, 400, 'validation_failed'],
    ['challenge: body an array', 'post', () => `/factors/${totpId}/challenge`, [], 400, 'bad_json'],
    ['verify: factor id not a UUID', 'post', () => '/factors/123/verify', { challenge_id: unknown, code: '123456' }, 404, 'validation_failed'],
    ['verify: no challenge_id', 'post', () => `/factors/${totpId}/verify`, { code: '123456' }, 400, 'validation_failed'],
    ['verify: challenge_id not a UUID', 'post', () => `/factors/${totpId}/verify`, { challenge_id: 'abc', code: '123456' }, 400, 'validation_failed'],
    ['verify: no code', 'post', () => `/factors/${totpId}/verify`, { challenge_id: unknown }, 400, 'validation_failed'],
    ['verify: code a number', 'post', () => `/factors/${totpId}/verify`, { challenge_id: unknown, code: 123456 }, 400, 'validation_failed'],
    ['verify: code too long', 'post', () => `/factors/${totpId}/verify`, { challenge_id: unknown, code: long }, 400, 'validation_failed'],
    ['verify: unknown challenge', 'post', () => `/factors/${totpId}/verify`, { challenge_id: unknown, code: '123456' }, 422, 'mfa_factor_not_found'],
    ['verify: unknown factor', 'post', () => `/factors/${unknown}/verify`, { challenge_id: unknown, code: '123456' }, 404, 'mfa_factor_not_found'],
    ['unenrol: factor id not a UUID', 'delete', () => '/factors/zzz', undefined, 404, 'validation_failed'],
    ['unenrol: unknown factor', 'delete', () => `/factors/${unknown}`, undefined, 404, 'mfa_factor_not_found'],
    // Recovery codes are off in this app (their default).
    ['recovery codes off: generate', 'post', () => '/factors/recovery-codes', {}, 422, 'mfa_recovery_codes_enroll_not_enabled'],
    ['recovery codes off: regenerate', 'post', () => '/factors/recovery-codes/regenerate', {}, 422, 'mfa_recovery_codes_enroll_not_enabled'],
    ['recovery codes off: verify', 'post', () => '/factors/recovery-codes/verify', { code: 'abcd-efgh' }, 422, 'mfa_recovery_codes_verify_not_enabled'],
  ];

  it.each(rows)('%s', async (_name, method, path, body, status, code) => {
    let req = request(main.app)[method](path()).set(as(token));
    if (typeof body === 'string') req = req.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) req = req.send(body as object);
    const r = await req;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.code).toBe(code);
  });

  it('a TOTP code that is not six digits is a failed verification, not an error', async () => {
    for (const code of ['12345', 'abcdef', '1234567', ' ']) {
      const c = await request(main.app).post(`/factors/${totpId}/challenge`).set(as(token)).send({});
      const r = await request(main.app).post(`/factors/${totpId}/verify`).set(as(token)).send({ challenge_id: c.body.id, code });
      expect([400, 422]).toContain(r.status);
      expect(r.body.code).toMatch(/^(mfa_verification_failed|validation_failed)$/);
    }
  });

  it('a phone challenge whose SMS cannot be sent is 422 sms_send_failed and leaves no challenge behind', async () => {
    sms.fail = true;
    try {
      const r = await request(main.app).post(`/factors/${phoneId}/challenge`).set(as(token)).send({ channel: 'sms' });
      expect(r.status).toBe(422);
      expect(r.body.code).toBe('sms_send_failed');
      expect(JSON.stringify(r.body)).not.toContain('AC-secret');
    } finally {
      sms.fail = false;
    }
    const left = await main.db.db.selectFrom('mfa_challenges').select('id').where('factor_id', '=', phoneId).execute();
    expect(left).toEqual([]);
    // The failed send does not count against GOTRUE_MFA_PHONE_MAX_FREQUENCY.
    const retry = await request(main.app).post(`/factors/${phoneId}/challenge`).set(as(token)).send({});
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
  });

  it('two verifications of one challenge at once: exactly one gets tokens', async () => {
    const s = await signUp(main.app);
    const f = await enrolTotp(s.body.access_token, 'race');
    const c = await request(main.app).post(`/factors/${f.id}/challenge`).set(as(s.body.access_token)).send({});
    const code = totpCodeAt(f.totp.secret, serverNow());
    const send = () => request(main.app).post(`/factors/${f.id}/verify`).set(as(s.body.access_token)).send({ challenge_id: c.body.id, code });
    const results = await Promise.all([send(), send(), send()]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 422, 422]);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.body.code).toMatch(/^(mfa_ip_address_mismatch|mfa_verification_failed)$/);
  });

  it('every route needs a signed-in caller', async () => {
    for (const [method, path] of [['post', '/factors'], ['post', `/factors/${totpId}/challenge`], ['post', `/factors/${totpId}/verify`], ['delete', `/factors/${totpId}`]] as const) {
      const r = await request(main.app)[method](path).set(API_VERSION).send({});
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('no_authorization');
    }
  });
});

describe('switches and the challenge-and-verify rate limit', () => {
  const off = useTestApp({
    env: { GOTRUE_MFA_TOTP_ENROLL_ENABLED: 'false', GOTRUE_MFA_TOTP_VERIFY_ENABLED: 'false', GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '2' },
  });

  it('GOTRUE_MFA_TOTP_ENROLL_ENABLED / _VERIFY_ENABLED off refuse enrolment and challenges', async () => {
    const s = await signUp(off.app);
    const e = await request(off.app).post('/factors').set(as(s.body.access_token)).send({ factor_type: 'totp' });
    expect(e.status).toBe(422);
    expect(e.body.code).toBe('mfa_totp_enroll_not_enabled');
    const id = crypto.randomUUID();
    const now = new Date();
    await off.db.db
      .insertInto('mfa_factors')
      .values({ id, user_id: s.body.user.id, friendly_name: 'x', factor_type: 'totp', status: 'unverified', created_at: now, updated_at: now, secret: 'JBSWY3DPEHPK3PXP' })
      .execute();
    const c = await request(off.app).post(`/factors/${id}/challenge`).set(as(s.body.access_token)).send({});
    expect(c.status).toBe(422);
    expect(c.body.code).toBe('mfa_totp_verify_not_enabled');
    // GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY=2 per minute: the third challenge request is 429.
    expect((await request(off.app).post(`/factors/${id}/challenge`).set(as(s.body.access_token)).send({})).status).toBe(422);
    const third = await request(off.app).post(`/factors/${id}/challenge`).set(as(s.body.access_token)).send({});
    expect(third.status).toBe(429);
    expect(third.body.code).toBe('over_request_rate_limit');
  });

  it('recovery-code verify counts in the MFA verify bucket, which factor verify shares', async () => {
    const s = await signUp(off.app);
    const verifyCode = () => request(off.app).post('/factors/recovery-codes/verify').set(as(s.body.access_token)).send({ code: 'abcd-efgh' });
    for (let i = 0; i < 2; i++) expect((await verifyCode()).body.code).toBe('mfa_recovery_codes_verify_not_enabled');
    const third = await verifyCode();
    expect(third.status).toBe(429);
    expect(third.body.code).toBe('over_request_rate_limit');
    const factorVerify = await request(off.app).post(`/factors/${crypto.randomUUID()}/verify`).set(as(s.body.access_token)).send({ challenge_id: crypto.randomUUID(), code: '123456' });
    expect(factorVerify.status).toBe(429);
  });
});
