import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createConfirmedUser, followLink } from '../helpers/email-flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ mail: true, env: { GOTRUE_SMTP_MAX_FREQUENCY: '0s', GOTRUE_MAILER_OTP_EXP: '3600' } });
const { db } = server;

const verify = (body?: object) => {
  const r = request(server.app).post('/verify').set(API_VERSION);
  return body === undefined ? r : r.send(body);
};

/** An unconfirmed user and its confirmation mail. */
async function pendingSignup(tag: string, pkce = false) {
  const email = uniqueEmail(tag);
  const res = await request(server.app)
    .post('/signup')
    .set(API_VERSION)
    .send({ email, password: 'pass-word-1', ...(pkce ? { code_challenge: 'v'.repeat(43), code_challenge_method: 'plain' } : {}) });
  expect(res.status).toBe(200);
  const mail = await server.mail.next(email);
  return { email, mail, token: new URL(mail.link!).searchParams.get('token')! };
}

describe(`POST /verify (${dbKind})`, () => {
  it.each([
    ['no body', undefined, 400, 'bad_json'],
    ['no type', { token: '123456', email: 'a@example.com' }, 400, 'validation_failed'],
    ['an unknown type', { type: 'password', token_hash: 'abc' }, 400, 'validation_failed'],
    ['neither token nor token_hash', { type: 'signup', email: 'a@example.com' }, 400, 'validation_failed'],
    ['both token and token_hash', { type: 'signup', token: '123456', token_hash: 'abc' }, 400, 'validation_failed'],
    ['a token without email or phone', { type: 'signup', token: '123456' }, 400, 'validation_failed'],
    ['a token with both email and phone', { type: 'signup', token: '123456', email: 'a@example.com', phone: '15551234567' }, 400, 'validation_failed'],
    ['token_hash with an email', { type: 'signup', token_hash: 'abc', email: 'a@example.com' }, 400, 'validation_failed'],
    ['token_hash with a phone', { type: 'sms', token_hash: 'abc', phone: '15551234567' }, 400, 'validation_failed'],
    ['token_hash with redirect_to', { type: 'signup', token_hash: 'abc', redirect_to: 'http://localhost:3000' }, 400, 'validation_failed'],
    ['a bad email', { type: 'email', token: '123456', email: 'not-an-email' }, 400, 'email_address_invalid'],
    ['a bad phone', { type: 'sms', token: '123456', phone: 'call me' }, 400, 'validation_failed'],
    ['a non-string token', { type: 'email', token: 123456, email: 'a@example.com' }, 400, 'validation_failed'],
    ['an unknown address', { type: 'email', token: '123456', email: 'nobody@example.com' }, 403, 'otp_expired'],
    ['an unknown token_hash', { type: 'signup', token_hash: 'f'.repeat(56) }, 403, 'otp_expired'],
    ['a phone type with an email', { type: 'sms', token: '123456', email: 'a@example.com' }, 403, 'otp_expired'],
  ])('answers %s with %i %s', async (_name, body, status, code) => {
    const res = await verify(body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.headers['x-sb-error-code']).toBe(code);
  });

  it('accepts the link’s token as token_hash, once', async () => {
    const { token } = await pendingSignup('hash');
    const ok = await verify({ type: 'signup', token_hash: token });
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toBeTruthy();
    const reused = await verify({ type: 'signup', token_hash: token });
    expect([reused.status, reused.body]).toEqual([403, { code: 'otp_expired', message: 'Token has expired or is invalid' }]);
  });

  it('accepts a PKCE mail’s token as token_hash (with or without its pkce_ prefix) and answers a session', async () => {
    const a = await pendingSignup('hash-pkce', true);
    expect(a.token).toMatch(/^pkce_/);
    expect((await verify({ type: 'signup', token_hash: a.token })).body.access_token).toBeTruthy();
    const b = await pendingSignup('hash-pkce-bare', true);
    expect((await verify({ type: 'signup', token_hash: b.token.slice('pkce_'.length) })).body.access_token).toBeTruthy();
  });

  it('refuses a token for another type (a confirmation verified as recovery) without using it up', async () => {
    const { email, mail } = await pendingSignup('wrong-type');
    expect((await verify({ type: 'recovery', email, token: mail.otp })).status).toBe(403);
    expect((await verify({ type: 'magiclink', email, token: mail.otp })).status).toBe(403);
    expect((await verify({ type: 'signup', email, token: mail.otp })).status).toBe(200);
  });

  it('verifies a magic link code with type magiclink', async () => {
    const email = uniqueEmail('type-magiclink');
    await createConfirmedUser(server, email);
    await request(server.app).post('/magiclink').set(API_VERSION).send({ email });
    const mail = await server.mail.next(email);
    const res = await verify({ type: 'magiclink', email, token: mail.otp });
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(email);
  });

  it('refuses an expired code and link (GOTRUE_MAILER_OTP_EXP) with otp_expired', async () => {
    const { email, mail } = await pendingSignup('expired');
    await db.db.updateTable('users').set({ confirmation_sent_at: new Date(Date.now() - 3601_000) }).where('email', '=', email).execute();
    expect((await verify({ type: 'email', email, token: mail.otp })).body.code).toBe('otp_expired');
    const link = await followLink(server, mail.link!);
    expect(link.fragment.get('error_code')).toBe('otp_expired');
  });

  it('invalidates a code after 5 wrong guesses (the right code then fails too); 4 wrong guesses are forgiven', async () => {
    const wrong = (otp: string) => (otp === '000000' ? '111111' : '000000');
    const a = await pendingSignup('guesses-4');
    for (let i = 0; i < 4; i++) expect((await verify({ type: 'email', email: a.email, token: wrong(a.mail.otp!) })).status).toBe(403);
    expect((await verify({ type: 'email', email: a.email, token: a.mail.otp })).status).toBe(200);

    const b = await pendingSignup('guesses-5');
    for (let i = 0; i < 5; i++) expect((await verify({ type: 'email', email: b.email, token: wrong(b.mail.otp!) })).status).toBe(403);
    expect((await verify({ type: 'email', email: b.email, token: b.mail.otp })).status).toBe(403);
    expect((await followLink(server, b.mail.link!)).fragment.get('error_code')).toBe('otp_expired');
    // A new code starts afresh.
    await request(server.app).post('/resend').set(API_VERSION).send({ type: 'signup', email: b.email });
    const again = await server.mail.next(b.email);
    expect((await verify({ type: 'email', email: b.email, token: again.otp })).status).toBe(200);
  });

  it('lets exactly one of several concurrent verifications of one code win', async () => {
    const { email, mail } = await pendingSignup('race');
    const results = await Promise.all(Array.from({ length: 6 }, () => verify({ type: 'email', email, token: mail.otp })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 403, 403, 403, 403, 403]);
    expect(await db.db.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id').select('sessions.id').where('users.email', '=', email).execute()).toHaveLength(1);
  });

  it('writes user_confirmation_requested, user_signedup and login audit rows', async () => {
    const { email, mail } = await pendingSignup('audit');
    const res = await verify({ type: 'email', email, token: mail.otp });
    const rows = (await db.db.selectFrom('audit_log_entries').select('payload').execute()).map((r) => r.payload as Record<string, unknown>);
    const actions = rows.filter((p) => p.actor_id === res.body.user.id).map((p) => p.action);
    expect(actions.sort()).toEqual(['login', 'user_confirmation_requested', 'user_signedup']);
  });
});

describe(`GET /verify (${dbKind})`, () => {
  it.each([
    ['no type', '/verify?token=abc', 'invalid_request', 'validation_failed', 'Verify requires a verification type'],
    ['no token', '/verify?type=signup', 'invalid_request', 'validation_failed', 'Verify requires a token or a token hash'],
    ['an unknown type', '/verify?type=nope&token=abc', 'invalid_request', 'validation_failed', 'Unsupported verification type'],
    ['an unknown token', '/verify?type=signup&token=abc', 'access_denied', 'otp_expired', 'Email link is invalid or has expired'],
  ])('answers %s with a 303 carrying the error in the fragment', async (_name, path, error, code, description) => {
    const res = await request(server.app).get(path);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.location!);
    expect(location.origin).toBe('http://localhost:3000');
    expect(location.search).toBe('');
    expect(location.hash).toBe(`#${new URLSearchParams({ error, error_code: code, error_description: description, sb: '' })}`);
  });

  it('puts a PKCE link’s error in the query as well (without sb, as GoTrue’s prepErrorRedirectURL)', async () => {
    const res = await request(server.app).get('/verify?type=signup&token=pkce_abc&redirect_to=http://localhost:3000/cb');
    const location = new URL(res.headers.location!);
    expect(location.pathname).toBe('/cb');
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'access_denied', error_code: 'otp_expired', error_description: 'Email link is invalid or has expired' });
    expect(new URLSearchParams(location.hash.slice(1)).get('error_code')).toBe('otp_expired');
  });
});
