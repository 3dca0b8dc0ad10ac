import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOOK_KINDS } from '../../src/config/hooks';
import { totpCodeAt } from '../../src/crypto/totp';
import { adminHeaders } from '../helpers/admin';
import { claimsOf } from '../helpers/flows';
import { newHookSecret, startHookReceiver, type HookReceiver } from '../helpers/hook-receiver';
import { uniquePhone } from '../helpers/sms-recorder';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

/**
 * GoTrue's seven auth hooks over HTTP, against a local receiver that checks the Standard Webhooks signature with the
 * same package and answers each decision. GoTrue's 5 s deadline and 2 s backoff are shortened through deps.
 */
let receiver: HookReceiver;
beforeAll(async () => {
  receiver = await startHookReceiver();
});
afterAll(() => receiver.close());


const server = useTestApp({
  mail: true,
  env: () => ({
    GOTRUE_EXTERNAL_PHONE_ENABLED: 'true',
    GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true',
    GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '100000',
    ...Object.fromEntries(
      HOOK_KINDS.flatMap((k) => [
        [`GOTRUE_HOOK_${k.toUpperCase()}_ENABLED`, 'true'],
        [`GOTRUE_HOOK_${k.toUpperCase()}_URI`, `${receiver.url}/${k}`],
        // Two allowed secrets: the request carries a signature for each; the receiver knows only one.
        [`GOTRUE_HOOK_${k.toUpperCase()}_SECRETS`, `${newHookSecret()}|${receiver.secret}`],
      ]),
    ),
  }),
  // 2 s rather than GoTrue's 5 s: long enough for a loaded CI machine, short enough for the timeout case.
  overrides: { sms: undefined, hooks: { httpTimeoutMs: 2_000, httpBackoffMs: 20 } },
});

const password = 'pass-word-1';

/** The receiver answers the custom access token hook with the claims it got plus these. */
const addClaims = (extra: Record<string, unknown>) => (call: { body: Record<string, unknown> }) => ({
  status: 200,
  body: { claims: { ...(call.body.claims as object), ...extra } },
});

/** Signs a user up through the send email hook and confirms them with the hook's token_hash. */
async function confirmedUser(): Promise<{ email: string; userId: string }> {
  const email = uniqueEmail('hooks');
  const auth = server.client();
  const up = await auth.signUp({ email, password });
  expect(up.error).toBeNull();
  const mail = receiver.callsTo('/send_email').find((c) => (c.body.user as { email: string }).email === email)!;
  const data = mail.body.email_data as { token_hash: string };
  const verified = await auth.verifyOtp({ token_hash: data.token_hash, type: 'signup' });
  expect(verified.error).toBeNull();
  return { email, userId: up.data.user!.id };
}

beforeEach(() => {
  receiver.reset();
  // A custom access token hook must answer the claims; by default it gives them back unchanged.
  receiver.answer('/custom_access_token', addClaims({}));
});

describe(`auth hooks over HTTP (${dbKind})`, () => {
  it('signs every call with Standard Webhooks headers for each configured secret, with GoTrue metadata', async () => {
    await confirmedUser();
    expect(receiver.calls.length).toBeGreaterThan(0);
    for (const c of receiver.calls) {
      expect(c.verified).toBe(true);
      expect(c.headers['content-type']).toBe('application/json');
      expect(String(c.headers['webhook-signature']).split(', ')).toHaveLength(2);
      const metadata = c.body.metadata as Record<string, unknown>;
      expect(metadata.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof metadata.time).toBe('string');
    }
    expect((receiver.callsTo('/before_user_created')[0]!.body.metadata as { name: string }).name).toBe('before-user-created');
  });

  it('send email replaces the mailer: token and token_hash arrive in email_data, no mail is sent, and the hash verifies', async () => {
    const { email } = await confirmedUser();
    const [call] = receiver.callsTo('/send_email');
    const data = call!.body.email_data as Record<string, string>;
    expect(data).toMatchObject({ email_action_type: 'signup', redirect_to: 'http://localhost:3000', site_url: 'http://localhost:9999', token_new: '', token_hash_new: '' });
    expect(data.token).toMatch(/^\d{6}$/);
    expect(data.token_hash).toMatch(/^[0-9a-f]{56}$/);
    expect(server.mail.pending(email)).toHaveLength(0);
  });

  it('a secure email change is one send email call carrying both codes, paired as GoTrue pairs them; both hashes verify', async () => {
    const { email } = await confirmedUser();
    const auth = server.client();
    expect((await auth.signInWithPassword({ email, password })).error).toBeNull();
    receiver.calls.length = 0;
    const newEmail = uniqueEmail('moved');
    expect((await auth.updateUser({ email: newEmail })).error).toBeNull();
    const calls = receiver.callsTo('/send_email');
    expect(calls).toHaveLength(1);
    const data = calls[0]!.body.email_data as Record<string, string>;
    expect(data.email_action_type).toBe('email_change');
    expect([data.token, data.token_new].every((t) => /^\d{6}$/.test(t!))).toBe(true);
    // token_hash belongs to the new address, token_hash_new to the current one (GoTrue's pairing).
    const [forNew, forCurrent] = await Promise.all([
      server.db.db.selectFrom('one_time_tokens').select(['token_hash', 'relates_to']).where('token_hash', '=', data.token_hash!).executeTakeFirst(),
      server.db.db.selectFrom('one_time_tokens').select(['token_hash', 'relates_to']).where('token_hash', '=', data.token_hash_new!).executeTakeFirst(),
    ]);
    expect(forNew?.relates_to).toBe(newEmail);
    expect(forCurrent?.relates_to).toBe(email);
    expect((await auth.verifyOtp({ token_hash: data.token_hash_new!, type: 'email_change' })).error).toBeNull();
    const done = await auth.verifyOtp({ token_hash: data.token_hash!, type: 'email_change' });
    expect(done.error).toBeNull();
    expect(done.data.user?.email).toBe(newEmail);
  });

  it('custom access token adds a claim visible in the session JWT through auth-js, for sign-in and refresh alike', async () => {
    const { email, userId } = await confirmedUser();
    receiver.answer('/custom_access_token', addClaims({ tenant: 'acme', app_metadata: { plan: 'pro' } }));
    receiver.calls.length = 0;
    const auth = server.client();
    const signed = await auth.signInWithPassword({ email, password });
    expect(signed.error).toBeNull();
    const claims = claimsOf(signed.data.session!.access_token);
    expect(claims).toMatchObject({ tenant: 'acme', app_metadata: { plan: 'pro' }, sub: userId });
    const [call] = receiver.callsTo('/custom_access_token');
    expect(call!.body).toMatchObject({ user_id: userId, authentication_method: 'password', claims: { sub: userId, aal: 'aal1', role: 'authenticated' } });

    const refreshed = await auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(claimsOf(refreshed.data.session!.access_token).tenant).toBe('acme');
    expect(receiver.callsTo('/custom_access_token').at(-1)!.body.authentication_method).toBe('token_refresh');
  });

  it('custom access token: claims that break GoTrue\'s schema, a missing claims field and a hook error fail the grant with GoTrue\'s error', async () => {
    const { email } = await confirmedUser();
    const cases: [string, (call: { body: Record<string, unknown> }) => { status: number; body: unknown }, number, RegExp][] = [
      ['missing aud', (c) => ({ status: 200, body: { claims: { ...(c.body.claims as object), aud: undefined } } }), 502, /output claims do not conform to the expected schema/],
      ['exp not an integer', addClaims({ exp: 'soon' }), 502, /output claims do not conform/],
      ['no claims field', () => ({ status: 200, body: { hello: 1 } }), 502, /output claims field is missing/],
      ['hook error', () => ({ status: 200, body: { error: { http_code: 403, message: 'tenant suspended' } } }), 403, /tenant suspended/],
    ];
    for (const [name, answer, status, message] of cases) {
      receiver.answer('/custom_access_token', answer);
      const res = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(res.body.msg ?? res.body.message).toMatch(message);
      expect(res.body.access_token).toBeUndefined();
    }
  });

  it('password verification attempt: sees right and wrong passwords; reject answers its message as invalid_credentials and may log the user out', async () => {
    const { email, userId } = await confirmedUser();
    const first = server.client();
    expect((await first.signInWithPassword({ email, password })).error).toBeNull();
    const wrong = await server.client().signInWithPassword({ email, password: 'wrong-pass-1' });
    expect(wrong.error?.code).toBe('invalid_credentials');
    expect(receiver.callsTo('/password_verification_attempt').map((c) => [c.body.user_id, c.body.valid])).toEqual([
      [userId, true],
      [userId, false],
    ]);

    receiver.answer('/password_verification_attempt', () => ({ status: 200, body: { decision: 'reject', message: 'Too many attempts', should_logout_user: true } }));
    const refused = await server.client().signInWithPassword({ email, password });
    expect(refused.error).toMatchObject({ status: 400, code: 'invalid_credentials', message: 'Too many attempts' });
    // should_logout_user ended the earlier session: its refresh token no longer works.
    expect((await first.refreshSession()).error?.code).toBe('refresh_token_not_found');

    receiver.answer('/password_verification_attempt', () => ({ status: 200, body: { decision: 'reject' } }));
    const plain = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
    expect(plain.body).toEqual({ code: 'invalid_credentials', message: 'Further password verification attempts will be rejected.' });

    receiver.answer('/password_verification_attempt', () => ({ status: 200, body: { decision: 'continue' } }));
    expect((await server.client().signInWithPassword({ email, password })).error).toBeNull();
  });

  it('MFA verification attempt: reject through auth-js mfa.verify is 403 mfa_verification_rejected and ends the sessions', async () => {
    const { email } = await confirmedUser();
    const auth = server.client();
    expect((await auth.signInWithPassword({ email, password })).error).toBeNull();
    const enrolled = await auth.mfa.enroll({ factorType: 'totp' });
    expect(enrolled.error).toBeNull();
    const { id, totp } = enrolled.data as { id: string; totp: { secret: string } };
    receiver.answer('/mfa_verification_attempt', () => ({ status: 200, body: { decision: 'reject', message: 'Locked out' } }));
    const challenge = await auth.mfa.challenge({ factorId: id });
    const verified = await auth.mfa.verify({ factorId: id, challengeId: challenge.data!.id, code: totpCodeAt(totp.secret, new Date()) });
    expect(verified.error).toMatchObject({ status: 403, code: 'mfa_verification_rejected', message: 'Locked out' });
    const [call] = receiver.callsTo('/mfa_verification_attempt');
    expect(call!.body).toMatchObject({ factor_id: id, factor_type: 'totp', valid: true });
    expect((await auth.refreshSession()).error?.code).toBe('refresh_token_not_found');
  });

  it('send SMS replaces the SMS provider: the OTP and phone arrive, and the code signs the user in', async () => {
    const phone = uniquePhone();
    const auth = server.client();
    const sent = await auth.signInWithOtp({ phone });
    expect(sent.error).toBeNull();
    const [call] = receiver.callsTo('/send_sms');
    const sms = call!.body.sms as { otp: string; phone: string };
    expect(sms.phone).toBe(phone);
    expect((call!.body.user as { phone: string }).phone).toBe(phone);
    const verified = await auth.verifyOtp({ phone, token: sms.otp, type: 'sms' });
    expect(verified.error).toBeNull();
  });

  it('before user created: the user about to be made is sent, and an error answer refuses the sign-up with nothing stored', async () => {
    const email = uniqueEmail('refused');
    receiver.answer('/before_user_created', () => ({ status: 200, body: { error: { http_code: 400, message: 'Only company addresses may sign up' } } }));
    const res = await server.client().signUp({ email, password });
    expect(res.error).toMatchObject({ status: 400, message: 'Only company addresses may sign up' });
    expect((receiver.callsTo('/before_user_created')[0]!.body.user as { email: string }).email).toBe(email);
    const stored = await server.db.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(stored).toHaveLength(0);
    expect(receiver.callsTo('/send_email')).toHaveLength(0);
  });

  it('admin generate_link sign-ups go through before/after user created too (GoTrue\'s mail.go)', async () => {
    const email = uniqueEmail('link');
    receiver.answer('/before_user_created', () => ({ status: 200, body: { error: { http_code: 422, message: 'No links for you' } } }));
    const refused = await request(server.app).post('/admin/generate_link').set(adminHeaders(server.deps)).send({ type: 'invite', email });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ code: 'unknown', message: 'No links for you' });
    receiver.answer('/before_user_created', () => ({ status: 204 }));
    const made = await request(server.app).post('/admin/generate_link').set(adminHeaders(server.deps)).send({ type: 'invite', email });
    expect(made.status).toBe(200);
    expect((receiver.callsTo('/after_user_created')[0]!.body.user as { id: string }).id).toBe(made.body.id);
    expect((receiver.callsTo('/before_user_created').at(-1)!.body.user as { id: string }).id).toBe(made.body.id);
  });

  it('before and after user created see the same user id; an after-hook error is the answer but the user stays', async () => {
    const res = await server.client().signInAnonymously();
    expect(res.error).toBeNull();
    const before = receiver.callsTo('/before_user_created')[0]!.body.user as { id: string; is_anonymous: boolean };
    const after = receiver.callsTo('/after_user_created')[0]!.body.user as { id: string };
    expect(before).toMatchObject({ id: res.data.user!.id, is_anonymous: true });
    expect(after.id).toBe(res.data.user!.id);

    const email = uniqueEmail('after');
    receiver.answer('/after_user_created', () => ({ status: 200, body: { error: { message: 'crm down' } } }));
    const failed = await request(server.app).post('/signup').set(API_VERSION).send({ email, password });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ code: 'unexpected_failure', message: 'crm down' });
    expect(await server.db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(1);
  });

  it("failure modes answer GoTrue's errors, never a hang: timeout, 500, bad JSON, wrong content type, oversize, bad signature", async () => {
    const { email } = await confirmedUser();
    const cases: [string, () => { status?: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }, number, string, RegExp][] = [
      ['slow', () => ({ status: 204, delayMs: 2_600 }), 422, 'hook_timeout', /Failed to reach hook within maximum time of 2\.000000 seconds/],
      ['500', () => ({ status: 500, body: { oops: true } }), 502, 'unexpected_failure', /Unexpected status code returned from hook: 500/],
      ['bad JSON', () => ({ status: 200, body: '{"decision":', headers: { 'content-type': 'application/json' } }), 502, 'unexpected_failure', /Error unmarshaling JSON output\./],
      ['text/plain', () => ({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } }), 400, 'hook_payload_invalid_content_type', /Received content-type: text\/plain/],
      ['no content type', () => ({ status: 200, body: 'ok' }), 400, 'hook_payload_invalid_content_type', /Missing Content-Type/],
      ['oversize', () => ({ status: 200, body: { decision: 'continue', pad: 'x'.repeat(210 * 1024) } }), 422, 'hook_payload_over_size_limit', /size limit of 204800 bytes/],
      ['503 without Retry-After', () => ({ status: 503 }), 502, 'unexpected_failure', /Service currently unavailable due to hook/],
      ['401 (signature refused)', () => ({ status: 401 }), 502, 'unexpected_failure', /Hook requires authorization token/],
    ];
    for (const [name, answer, status, code, message] of cases) {
      receiver.answer('/password_verification_attempt', answer);
      const started = Date.now();
      const res = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status, code });
      expect(res.body.message).toMatch(message);
      // Never a hang: the slow hook is cut off at its 2 s deadline, the others answer at once.
      expect(Date.now() - started).toBeLessThan(name === 'slow' ? 2_000 + 1_500 : 5_000);
    }
    // 429 with Retry-After is tried again, at once, up to three attempts.
    receiver.calls.length = 0;
    receiver.answer('/password_verification_attempt', () => ({ status: 429, headers: { 'retry-after': '1' } }));
    const limited = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
    expect(limited.status).toBe(502);
    expect(receiver.callsTo('/password_verification_attempt')).toHaveLength(3);
  });

  it('a send email hook failure leaves nothing half-made: the new user goes, and the sign-up can be retried', async () => {
    const email = uniqueEmail('sendfail');
    receiver.answer('/send_email', () => ({ status: 200, body: { error: { http_code: 502, message: 'mail vendor down' } } }));
    const failed = await request(server.app).post('/signup').set(API_VERSION).send({ email, password });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ code: 'unknown', message: 'mail vendor down' });
    expect(await server.db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(0);
    receiver.answer('/send_email', () => ({ status: 204 }));
    expect((await server.client().signUp({ email, password })).error).toBeNull();
  });
});
