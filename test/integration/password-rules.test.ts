import type { AuthWeakPasswordError } from '@supabase/auth-js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { createConfirmedUser, followLink } from '../helpers/email-flows';
import { sha1Upper, startPwnedRangeStandIn, type PwnedRangeStandIn } from '../helpers/pwned-range-stand-in';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';
import { refusingUrl } from '../helpers/vendor-stand-in';

const PWNED = 'password1234';
const PWNED_TOO = 'letmein-please';
const GOOD = 'a-fresh-horse-battery-9';

let range: PwnedRangeStandIn;
beforeAll(async () => {
  range = await startPwnedRangeStandIn([PWNED, PWNED_TOO]);
});
afterAll(() => range.close());

const hibpEnv = (url: string, extra: Record<string, string> = {}) => ({
  GOTRUE_PASSWORD_HIBP_ENABLED: 'true',
  GOTRUE_PASSWORD_HIBP_URL: url,
  GOTRUE_URI_ALLOW_LIST: 'http://app.test/**',
  ...extra,
});
// One database for the file: this app opens it, the fail-open and fail-closed apps share it.
const server = useTestApp({ mail: true, env: () => hibpEnv(range.url, { GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD: 'true' }) });

/** A confirmed user made by an admin (admin create checks no leak, as GoTrue), and a signed-in auth-js client. */
async function signedInUser(password = GOOD) {
  const email = uniqueEmail('pw');
  const created = await adminCreate(server.app, server.deps, { email, password, email_confirm: true });
  const auth = authClient(server);
  const signed = await auth.signInWithPassword({ email, password });
  expect(signed.error).toBeNull();
  return { email, auth, id: created.id, session: signed.data.session! };
}

describe(`leaked passwords: the HIBP range check (${dbKind})`, () => {
  it('auth-js signUp with a pwned password: 422 weak_password, reason pwned; only 5 hex characters left the server', async () => {
    const before = range.requests.length;
    const { error } = await server.client().signUp({ email: uniqueEmail('pw'), password: PWNED });
    expect(error?.status).toBe(422);
    expect(error?.code).toBe('weak_password');
    expect((error as AuthWeakPasswordError).reasons).toEqual(['pwned']);
    expect(error?.message).toBe('Password is known to be weak and easy to guess, please choose a different one.');
    const asked = range.requests.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toEqual({ path: `/${sha1Upper(PWNED).slice(0, 5)}`, userAgent: 'https://github.com/supabase/gotrue', padding: 'true' });
  });

  it('a password that is not pwned signs up (the decoys and zero-count padding lines do not match)', async () => {
    const email = uniqueEmail('pw');
    const r = await server.client().signUp({ email, password: GOOD });
    expect(r.error).toBeNull();
    expect(server.mail.pending(email)).toHaveLength(1);
  });

  it('reports rule reasons and pwned together', async () => {
    const r = await request(server.app).post('/signup').set(API_VERSION).send({ email: uniqueEmail('pw'), password: '12345' });
    expect(r.status).toBe(422);
    // "12345" is shorter than 6 and, in the stand-in's corpus, not pwned: only the length rule.
    expect(r.body.weak_password).toEqual({ reasons: ['length'] });
  });

  it('PUT /user (auth-js updateUser) refuses a pwned password', async () => {
    const { auth } = await signedInUser();
    const { error } = await auth.updateUser({ password: PWNED_TOO, current_password: GOOD });
    expect(error?.code).toBe('weak_password');
    expect((error as AuthWeakPasswordError).reasons).toEqual(['pwned']);
  });

  it('admin update refuses a pwned password; admin create does not check it (as GoTrue)', async () => {
    const { id } = await signedInUser(PWNED);
    const r = await request(server.app).put(`/admin/users/${id}`).set(adminHeaders(server.deps)).send({ password: PWNED_TOO });
    expect([r.status, r.body.code, r.body.weak_password]).toEqual([422, 'weak_password', { reasons: ['pwned'] }]);
  });

  it('a sign-in with a pwned password succeeds and says so in weak_password', async () => {
    const email = uniqueEmail('pw');
    await adminCreate(server.app, server.deps, { email, password: PWNED, email_confirm: true });
    const r = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password: PWNED });
    expect(r.status).toBe(200);
    expect(r.body.weak_password).toEqual({ message: 'Password is known to be weak and easy to guess, please choose a different one.', reasons: ['pwned'] });
  });

  it('no request path ever carried more than a 5-character uppercase hex prefix', () => {
    expect(range.requests.length).toBeGreaterThan(3);
    for (const r of range.requests) expect(r.path).toMatch(/^\/[0-9A-F]{5}$/);
  });

  it('with the range API failing, fail-open (the default) lets the password through', async () => {
    range.failing(true);
    try {
      const r = await request(server.app).post('/signup').set(API_VERSION).send({ email: uniqueEmail('pw'), password: PWNED });
      expect(r.status).toBe(200);
    } finally {
      range.failing(false);
    }
  });
});

describe('leaked passwords, fail-closed with the range API down', () => {
  let down: string;
  beforeAll(async () => {
    down = await refusingUrl();
  });
  const closed = useTestApp({ db: server.db, env: () => hibpEnv(down, { GOTRUE_PASSWORD_HIBP_FAIL_CLOSED: 'true' }) });

  it('refuses to set any password with GoTrue’s 500, and still lets a sign-in through', async () => {
    const email = uniqueEmail('pw');
    const r = await request(closed.app).post('/signup').set(API_VERSION).send({ email, password: GOOD });
    expect([r.status, r.body.code, r.body.message]).toEqual([500, 'unexpected_failure', 'Unable to perform password strength check with HaveIBeenPwned.org.']);
    expect(await closed.db.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeUndefined();
    await adminCreate(closed.app, closed.deps, { email, password: GOOD, email_confirm: true });
    const signIn = await request(closed.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password: GOOD });
    expect(signIn.status).toBe(200);
    expect(signIn.body.weak_password).toBeUndefined();
  });
});

describe(`current password rule (GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD) (${dbKind})`, () => {
  it.each([
    ['missing', {}, 'current_password_required'],
    ['empty', { current_password: '' }, 'current_password_required'],
    ['wrong', { current_password: 'not-the-password-1' }, 'current_password_invalid'],
  ])('%s current_password: 400 %s, and the password stays', async (_n, extra, code) => {
    const { email, auth } = await signedInUser();
    const { error } = await auth.updateUser({ password: 'another-new-password-7', ...extra });
    expect([error?.status, error?.code, error?.message]).toEqual([400, code, 'Current password required when setting new password.']);
    expect((await authClient(server).signInWithPassword({ email, password: GOOD })).error).toBeNull();
  });

  it('the right current_password changes it (auth-js updateUser)', async () => {
    const { email, auth } = await signedInUser();
    const { error } = await auth.updateUser({ password: 'another-new-password-7', current_password: GOOD });
    expect(error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'another-new-password-7' })).error).toBeNull();
  });

  it('other fields change without it', async () => {
    const { auth } = await signedInUser();
    const { data, error } = await auth.updateUser({ data: { nickname: 'x' } });
    expect(error).toBeNull();
    expect(data.user?.user_metadata.nickname).toBe('x');
  });

  it('is not asked in a PKCE recovery session (amr recovery), as GoTrue', async () => {
    const email = uniqueEmail('pw-recover');
    await createConfirmedUser(server, email, GOOD);
    const auth = authClient(server, 'pkce');
    expect((await auth.resetPasswordForEmail(email, { redirectTo: 'http://app.test/reset' })).error).toBeNull();
    const mail = await server.mail.next(email);
    const followed = await followLink(server, mail.link!);
    expect((await auth.exchangeCodeForSession(followed.location.searchParams.get('code')!)).error).toBeNull();
    expect((await auth.updateUser({ password: 'recovered-password-3' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'recovered-password-3' })).error).toBeNull();
  });
});
