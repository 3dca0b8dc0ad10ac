import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createConfirmedUser, followLink } from '../helpers/email-flows';
import { SMTP_TEST_PASS, SMTP_TEST_USER, type FailureMode } from '../helpers/mail-catcher';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const sms = recordingSms();
const server = useTestApp({
  mail: true,
  env: { GOTRUE_SMTP_USER: SMTP_TEST_USER, GOTRUE_SMTP_PASS: SMTP_TEST_PASS, GOTRUE_EXTERNAL_PHONE_ENABLED: 'true' },
  overrides: { sms },
});
const { db } = server;

/** Everything the database holds about an address: a failed send must leave none of it behind. */
async function traces(email: string) {
  const users = await db.db.selectFrom('users').select(['id', 'confirmation_token', 'confirmation_sent_at', 'recovery_token', 'recovery_sent_at']).where('email', '=', email).execute();
  const ids = users.map((u) => u.id);
  const none = ['00000000-0000-0000-0000-000000000000'];
  const audits = (await db.db.selectFrom('audit_log_entries').select('payload').execute()).filter((r) => ids.includes((r.payload as { actor_id: string }).actor_id));
  return {
    users,
    identities: await db.db.selectFrom('identities').select('id').where('user_id', 'in', ids.length ? ids : none).execute(),
    tokens: await db.db.selectFrom('one_time_tokens').select(['token_type', 'token_hash']).where('relates_to', '=', email).execute(),
    flows: await db.db.selectFrom('flow_state').select('id').where('user_id', 'in', ids.length ? ids : none).execute(),
    audits,
  };
}

async function withSmtpFailing<T>(mode: FailureMode, fn: () => Promise<T>): Promise<T> {
  server.mail.fail = mode;
  try {
    return await fn();
  } finally {
    server.mail.fail = 'none';
  }
}

describe(`a mail server that refuses leaves nothing half-written (${dbKind})`, () => {
  it.each(['rcpt', 'data', 'auth'] as const)('signup: SMTP refusing at %s → 500 "Error sending confirmation email", no user; the retried signup works', async (mode) => {
    const email = uniqueEmail(`fail-${mode}`);
    const res = await withSmtpFailing(mode, () =>
      request(server.app).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1', code_challenge: 'c'.repeat(43), code_challenge_method: 'plain' }),
    );
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'unexpected_failure', message: 'Error sending confirmation email' });
    // Random request ids, etags and dates can contain "550" by chance: look only where a leaked reply would be.
    const { 'x-request-id': _id, etag: _etag, date: _date, ...headers } = res.headers;
    expect(JSON.stringify(res.body) + JSON.stringify(headers)).not.toMatch(/relay denied|quota|Invalid username|mailer-secret-pass|mailer-user|\b(535|550|552)\b/);
    expect(await traces(email)).toEqual({ users: [], identities: [], tokens: [], flows: [], audits: [] });

    const auth = authClient(server);
    const retry = await auth.signUp({ email, password: 'pass-word-1' });
    expect(retry.error).toBeNull();
    const mail = await server.mail.next(email);
    expect((await auth.verifyOtp({ email, token: mail.otp!, type: 'email' })).error).toBeNull();
  });

  it('answers legacy clients with GoTrue’s 500 body and an error_id', async () => {
    const res = await withSmtpFailing('rcpt', () => request(server.app).post('/signup').send({ email: uniqueEmail('fail-legacy'), password: 'pass-word-1' }));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 500, error_code: 'unexpected_failure', msg: 'Error sending confirmation email' });
    expect(res.body.error_id).toBeTypeOf('string');
    expect(res.headers['x-sb-error-code']).toBe('unexpected_failure');
  });

  it('auth-js sees the failure and its retried signUp succeeds', async () => {
    const email = uniqueEmail('fail-authjs');
    const auth = authClient(server);
    const failed = await withSmtpFailing('data', () => auth.signUp({ email, password: 'pass-word-1' }));
    expect(failed.error?.status).toBe(500);
    expect((await auth.signUp({ email, password: 'pass-word-1' })).error).toBeNull();
    expect((await server.mail.next(email)).subject).toBe('Confirm Your Email');
  });

  it('signInWithOtp for a new address: no user stays behind, and the retry works', async () => {
    const email = uniqueEmail('fail-otp');
    const failed = await withSmtpFailing('rcpt', () => authClient(server).signInWithOtp({ email }));
    expect(failed.error?.status).toBe(500);
    expect(await traces(email)).toEqual({ users: [], identities: [], tokens: [], flows: [], audits: [] });
    expect((await authClient(server).signInWithOtp({ email })).error).toBeNull();
    expect((await server.mail.next(email)).subject).toBe('Confirm Your Email');
  });

  it('magic link for an existing user: "Error sending magic link email", the previous token state is back, no throttle on the retry', async () => {
    const email = uniqueEmail('fail-magic');
    await createConfirmedUser(server, email);
    const before = await traces(email);
    const res = await withSmtpFailing('data', () => request(server.app).post('/otp').set(API_VERSION).send({ email }));
    expect([res.status, res.body.message]).toEqual([500, 'Error sending magic link email']);
    const after = await traces(email);
    expect(after.users).toEqual(before.users);
    expect(after.tokens).toEqual(before.tokens);

    expect((await request(server.app).post('/otp').set(API_VERSION).send({ email })).status).toBe(200);
    const mail = await server.mail.next(email);
    expect((await followLink(server, mail.link!)).fragment.get('type')).toBe('magiclink');
  });

  it('email change: the pending change is undone when a mail cannot be sent', async () => {
    const email = uniqueEmail('fail-change');
    const session = await createConfirmedUser(server, email);
    const res = await withSmtpFailing('rcpt', () =>
      request(server.app).put('/user').set(API_VERSION).set('Authorization', `Bearer ${session.access_token}`).send({ email: uniqueEmail('fail-change-to') }),
    );
    expect([res.status, res.body.message]).toEqual([500, 'Error sending email change email']);
    const row = await db.db.selectFrom('users').selectAll().where('id', '=', session.user.id).executeTakeFirstOrThrow();
    expect([row.email, row.email_change, row.email_change_token_new, row.email_change_token_current, row.email_change_sent_at]).toEqual([email, null, '', '', null]);
    expect(await db.db.selectFrom('one_time_tokens').select('token_type').where('user_id', '=', session.user.id).execute()).toEqual([]);
  });

  it('recovery: answers {} even when the mail fails, and undoes the token so asking again works at once', async () => {
    const email = uniqueEmail('fail-recover');
    await createConfirmedUser(server, email);
    const res = await withSmtpFailing('rcpt', async () => {
      const r = await request(server.app).post('/recover').set(API_VERSION).send({ email });
      // The send runs after the answer: wait until its undo has put the previous state back.
      for (let i = 0; i < 50 && (await traces(email)).users[0]!.recovery_sent_at !== null; i++) await new Promise((ok) => setTimeout(ok, 50));
      return r;
    });
    expect([res.status, res.body]).toEqual([200, {}]);
    expect((await traces(email)).users[0]).toMatchObject({ recovery_sent_at: null });
    await request(server.app).post('/recover').set(API_VERSION).send({ email });
    expect((await server.mail.next(email)).subject).toBe('Reset Your Password');
  });
});

describe(`an SMS vendor that fails leaves nothing half-written (${dbKind})`, () => {
  it('phone signup: 422 sms_send_failed without the vendor’s words, no user; the retry works', async () => {
    const phone = uniquePhone();
    sms.fail = true;
    let res;
    try {
      res = await request(server.app).post('/signup').set(API_VERSION).send({ phone, password: 'pass-word-1' });
    } finally {
      sms.fail = false;
    }
    expect([res.status, res.body]).toEqual([422, { code: 'sms_send_failed', message: 'Error sending SMS OTP to provider' }]);
    expect(await db.db.selectFrom('users').select('id').where('phone', '=', phone).execute()).toEqual([]);
    expect(await db.db.selectFrom('one_time_tokens').select('id').where('relates_to', '=', phone).execute()).toEqual([]);
    const auth = authClient(server);
    expect((await auth.signUp({ phone, password: 'pass-word-1' })).error).toBeNull();
    expect((await auth.verifyOtp({ phone, token: sms.lastTo(phone)!.otp, type: 'sms' })).error).toBeNull();
  });

  it('with no SMS provider a phone flow answers 422 sms_send_failed before writing anything', async () => {
    const { startTestServer } = await import('../helpers/test-server');
    const bare = await startTestServer(db, { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true' });
    try {
      const phone = uniquePhone();
      const res = await request(bare.app).post('/otp').set(API_VERSION).send({ phone });
      expect([res.status, res.body.code]).toEqual([422, 'sms_send_failed']);
      expect(await db.db.selectFrom('users').select('id').where('phone', '=', phone).execute()).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
