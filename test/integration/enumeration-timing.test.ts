import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MailTransport, OutgoingMail } from '../../src/mailer/transport';
import { adminCreate } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';
import { pairedMedians } from '../helpers/timing';

/**
 * House rule 6, measured: where GoTrue answers an existing and an unknown address alike, the time taken must not
 * tell them apart either. Mail goes to a transport with a fixed 25 ms hand-over, a fast SMTP
 * relay, so a path that sends mail and one that does not differ as they would in production. 30 existing and 30
 * unknown addresses per endpoint, interleaved; the medians must be within FACTOR of each other.
 */
const N = 30;
const SMTP_LATENCY_MS = 25;
const FACTOR = 1.6;

const sent: OutgoingMail[] = [];
const slowRelay: MailTransport = {
  name: 'memory',
  send: async (mail) => {
    await new Promise((r) => setTimeout(r, SMTP_LATENCY_MS));
    sent.push(mail);
  },
};

const t = useTestApp({
  env: { GOTRUE_MAILER_AUTOCONFIRM: 'false', GOTRUE_SMTP_MAX_FREQUENCY: '1ms' },
  overrides: { mailTransport: slowRelay },
});

const post = (path: string, body: Record<string, unknown>) => request(t.app).post(path).set(API_VERSION).send(body);
const expectOk = async (p: PromiseLike<{ status: number; body: unknown }>) => {
  const r = await p;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
};
const report = (name: string, m: { a: number; b: number; ratio: number }) =>
  console.log(`[timing ${dbKind}] ${name}: existing ${m.a.toFixed(1)} ms, unknown ${m.b.toFixed(1)} ms, ratio ${m.ratio.toFixed(2)}`);

describe(`no account enumeration by timing (${dbKind})`, () => {
  const confirmed: string[] = [];
  const unconfirmed: string[] = [];
  beforeAll(async () => {
    confirmed.push(...Array.from({ length: N }, () => uniqueEmail('known')));
    unconfirmed.push(...Array.from({ length: N }, () => uniqueEmail('pending')));
    await Promise.all([
      ...confirmed.map((email) => adminCreate(t.app, t.deps, { email, password: 'pass-word-1', email_confirm: true })),
      ...unconfirmed.map((email) => expectOk(post('/signup', { email, password: 'pass-word-1' }))),
    ]);
  }, 60_000);

  it('POST /signup: a confirmed address answers in the time of a real sign-up', async () => {
    const m = await pairedMedians(
      N,
      (i) => expectOk(post('/signup', { email: confirmed[i], password: 'pass-word-1' })),
      () => expectOk(post('/signup', { email: uniqueEmail('new'), password: 'pass-word-1' })),
    );
    report('signup', m);
    expect(m.ratio).toBeLessThan(FACTOR);
  });

  it('POST /resend (signup): an unconfirmed address answers in the time of an unknown one', async () => {
    const m = await pairedMedians(
      N,
      (i) => expectOk(post('/resend', { type: 'signup', email: unconfirmed[i] })),
      () => expectOk(post('/resend', { type: 'signup', email: uniqueEmail('nobody') })),
    );
    report('resend', m);
    expect(m.ratio).toBeLessThan(FACTOR);
  });

  it('POST /recover: an existing address answers in the time of an unknown one', async () => {
    const m = await pairedMedians(
      N,
      (i) => expectOk(post('/recover', { email: confirmed[i] })),
      () => expectOk(post('/recover', { email: uniqueEmail('nobody') })),
    );
    report('recover', m);
    expect(m.ratio).toBeLessThan(FACTOR);
  });

  it('POST /magiclink: an existing address answers in the time of an unknown one (which it signs up)', async () => {
    const m = await pairedMedians(
      N,
      (i) => expectOk(post('/magiclink', { email: confirmed[i] })),
      () => expectOk(post('/magiclink', { email: uniqueEmail('nobody') })),
    );
    report('magiclink', m);
    expect(m.ratio).toBeLessThan(FACTOR);
  });

  it('POST /otp with create_user false answers an unknown address 422 otp_disabled, as GoTrue (its answer differs anyway)', async () => {
    const known = await post('/otp', { email: confirmed[0], create_user: false });
    const unknown = await post('/otp', { email: uniqueEmail('nobody'), create_user: false });
    expect([known.status, unknown.status, unknown.body.code, unknown.body.message]).toEqual([200, 422, 'otp_disabled', 'Signups not allowed for otp']);
  });
});
