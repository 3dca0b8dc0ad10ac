import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { adminHeaders } from '../helpers/admin';
import { createConfirmedUser, startMailTestServer } from '../helpers/email-flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

/**
 * GOTRUE_SMTP_MAX_FREQUENCY (60 s by default): a second mail of one kind to one user inside the window is refused
 * as GoTrue refuses it (internal/api/mail.go, validateSentWithinFrequencyLimit) — 429 over_email_send_rate_limit,
 * "For security purposes, you can only request this after N seconds." — and nothing is sent: never a 200 that sends
 * nothing. Each kind is then asked again with its *_sent_at moved out of the window, which must send, so the refusal
 * is the window and nothing else. Invites are not throttled, in GoTrue either.
 */

const server = useTestApp({ mail: true });

type SentAt = 'confirmation_sent_at' | 'recovery_sent_at' | 'email_change_sent_at' | 'reauthentication_sent_at';

const THROTTLED = /^For security purposes, you can only request this after (\d+) seconds\.$/;

const post = (path: string, body: object, token?: string) => {
  const r = request(server.app).post(path).set(API_VERSION);
  if (token) r.set('Authorization', `Bearer ${token}`);
  return r.send(body);
};
const putUser = (token: string, body: object) => request(server.app).put('/user').set(API_VERSION).set('Authorization', `Bearer ${token}`).send(body);
const reauthenticate = (token: string) => request(server.app).get('/reauthenticate').set(API_VERSION).set('Authorization', `Bearer ${token}`);

/** Moves the user's sent_at for this kind out of the window, as if 61 seconds had passed. */
async function leaveWindow(email: string, column: SentAt) {
  await server.db.db.updateTable('users').set({ [column]: new Date(Date.now() - 61_000) }).where('email', '=', email).execute();
}

function expectThrottled(res: request.Response) {
  expect([res.status, res.body.code, res.headers['x-sb-error-code']]).toEqual([429, 'over_email_send_rate_limit', 'over_email_send_rate_limit']);
  expect(res.body.message).toMatch(THROTTLED);
  // The seconds left of the 60 s window (a loaded machine may take a few between the two requests).
  expect(Number(THROTTLED.exec(res.body.message)![1])).toSatisfy((n: number) => n > 0 && n <= 60);
}

/** Lets a background send (POST /recover) land before asserting nothing else arrived. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe(`email throttles: GOTRUE_SMTP_MAX_FREQUENCY per user and kind (${dbKind})`, () => {
  it('signup confirmation: a repeated sign-up of an unconfirmed address inside the window is 429, then sends once out of it', async () => {
    const email = uniqueEmail('thr-signup');
    expect((await post('/signup', { email, password: 'pass-word-1' })).status).toBe(200);
    await server.mail.next(email);
    expectThrottled(await post('/signup', { email, password: 'pass-word-1' }));
    await leaveWindow(email, 'confirmation_sent_at');
    expect((await post('/signup', { email, password: 'pass-word-1' })).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Confirm Your Email');
    expect(server.mail.pending(email)).toEqual([]);
  });

  it('resend (signup): inside the window of the confirmation is 429; out of it sends', async () => {
    const email = uniqueEmail('thr-resend');
    await post('/signup', { email, password: 'pass-word-1' });
    const first = await server.mail.next(email);
    expectThrottled(await post('/resend', { type: 'signup', email }));
    expect(server.mail.pending(email)).toEqual([]);
    await leaveWindow(email, 'confirmation_sent_at');
    expect((await post('/resend', { type: 'signup', email })).status).toBe(200);
    expect((await server.mail.next(email)).otp).not.toBe(first.otp);
  });

  it('OTP sign-up of a new address, asked twice: the second is 429 (the confirmation again)', async () => {
    const email = uniqueEmail('thr-otp-new');
    expect((await post('/otp', { email })).status).toBe(200);
    await server.mail.next(email);
    expectThrottled(await post('/otp', { email }));
    expect(server.mail.pending(email)).toEqual([]);
  });

  it('recovery: a second POST /recover inside the window is 429 and sends nothing (as GoTrue), out of it sends', async () => {
    const email = uniqueEmail('thr-recover');
    await createConfirmedUser(server, email);
    expect((await post('/recover', { email })).body).toEqual({});
    expect((await server.mail.next(email)).subject).toBe('Reset Your Password');
    expectThrottled(await post('/recover', { email }));
    await settle();
    expect(server.mail.pending(email)).toEqual([]);
    await leaveWindow(email, 'recovery_sent_at');
    expect((await post('/recover', { email })).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Reset Your Password');
  });

  it('recovery for an unknown address stays {} however often it is asked (nothing to throttle, nothing sent)', async () => {
    const email = uniqueEmail('thr-nobody');
    for (let i = 0; i < 3; i++) expect([(await post('/recover', { email })).status]).toEqual([200]);
    await settle();
    expect(server.mail.pending(email)).toEqual([]);
  });

  it('magic link (POST /magiclink and POST /otp): a second inside the window is 429; out of it sends', async () => {
    const email = uniqueEmail('thr-magic');
    await createConfirmedUser(server, email);
    expect((await post('/magiclink', { email })).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Your Magic Link');
    expectThrottled(await post('/magiclink', { email }));
    expectThrottled(await post('/otp', { email }));
    expect(server.mail.pending(email)).toEqual([]);
    await leaveWindow(email, 'recovery_sent_at');
    expect((await post('/otp', { email })).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Your Magic Link');
  });

  it('magic link and recovery share one timer, as in GoTrue (both are recovery_token)', async () => {
    const email = uniqueEmail('thr-shared');
    await createConfirmedUser(server, email);
    expect((await post('/otp', { email })).status).toBe(200);
    await server.mail.next(email);
    expectThrottled(await post('/recover', { email }));
    await settle();
    expect(server.mail.pending(email)).toEqual([]);
  });

  it('email change: a second change inside the window is 429, so is its resend; out of it the resend sends', async () => {
    const email = uniqueEmail('thr-change');
    const { access_token } = await createConfirmedUser(server, email);
    const next = uniqueEmail('thr-change-new');
    expect((await putUser(access_token, { email: next })).status).toBe(200);
    await server.mail.next(next);
    await server.mail.next(email); // secure email change: the current address gets its own mail
    const other = uniqueEmail('thr-change-other');
    expectThrottled(await putUser(access_token, { email: other }));
    expectThrottled(await post('/resend', { type: 'email_change', email }));
    expect([server.mail.pending(next), server.mail.pending(other), server.mail.pending(email)]).toEqual([[], [], []]);
    await leaveWindow(email, 'email_change_sent_at');
    expect((await post('/resend', { type: 'email_change', email })).status).toBe(200);
    expect((await server.mail.next(next)).subject).toBe('Confirm Email Change');
  });

  it('reauthentication: a second GET /reauthenticate inside the window is 429; out of it sends', async () => {
    const email = uniqueEmail('thr-reauth');
    const { access_token } = await createConfirmedUser(server, email);
    expect((await reauthenticate(access_token)).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Confirm reauthentication');
    expectThrottled(await reauthenticate(access_token));
    expect(server.mail.pending(email)).toEqual([]);
    await leaveWindow(email, 'reauthentication_sent_at');
    expect((await reauthenticate(access_token)).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Confirm reauthentication');
  });

  it('invite: not throttled (GoTrue neither) — inviting an unconfirmed address again sends again', async () => {
    const email = uniqueEmail('thr-invite');
    const invite = () => request(server.app).post('/invite').set(adminHeaders(server.deps)).send({ email });
    expect((await invite()).status).toBe(200);
    await server.mail.next(email);
    expect((await invite()).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('You have been invited');
  });

  it('the window is per kind: a recovery right after the confirmation of the same user is sent', async () => {
    const email = uniqueEmail('thr-kinds');
    await createConfirmedUser(server, email);
    expect((await post('/recover', { email })).status).toBe(200);
    expect((await server.mail.next(email)).subject).toBe('Reset Your Password');
  });
});

describe(`POST /recover over the server-wide GOTRUE_RATE_LIMIT_EMAIL_SENT (${dbKind})`, () => {
  it('answers GoTrue\'s 429 for a known address, sends nothing and puts the token back; an unknown address stays {}', async () => {
    const limited = await startMailTestServer(server.db, { GOTRUE_RATE_LIMIT_EMAIL_SENT: '1', GOTRUE_RATE_LIMIT_KEY_PREFIX: `t${randomBytes(6).toString('hex')}` });
    try {
      const email = uniqueEmail('thr-sent');
      await createConfirmedUser(limited, email); // the confirmation is the one mail of the hour
      const res = await request(limited.app).post('/recover').set(API_VERSION).send({ email });
      expect([res.status, res.body.code, res.body.message]).toEqual([429, 'over_email_send_rate_limit', 'email rate limit exceeded']);
      const unknown = await request(limited.app).post('/recover').set(API_VERSION).send({ email: uniqueEmail('thr-sent-nobody') });
      expect([unknown.status, unknown.body]).toEqual([200, {}]);
      await settle();
      expect(limited.mail.pending(email)).toEqual([]);
      const row = await server.db.db.selectFrom('users').select(['recovery_token', 'recovery_sent_at']).where('email', '=', email).executeTakeFirstOrThrow();
      expect([row.recovery_token || null, row.recovery_sent_at]).toEqual([null, null]);
    } finally {
      await limited.close();
    }
  });
});
