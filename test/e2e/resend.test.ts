import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createConfirmedUser, followLink } from '../helpers/email-flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const sms = recordingSms();
// No throttle here: these tests resend at once.
const server = useTestApp({ mail: true, env: { GOTRUE_SMTP_MAX_FREQUENCY: '0s', GOTRUE_SMS_MAX_FREQUENCY: '1ms', GOTRUE_EXTERNAL_PHONE_ENABLED: 'true' }, overrides: { sms } });

describe(`resend through auth-js (${dbKind})`, () => {
  it('signup: a new confirmation replaces the first; only the new one works', async () => {
    const email = uniqueEmail('resend');
    const auth = authClient(server);
    await auth.signUp({ email, password: 'pass-word-1' });
    const first = await server.mail.next(email);
    expect((await auth.resend({ type: 'signup', email })).error).toBeNull();
    const second = await server.mail.next(email);
    expect(second.otp).not.toBe(first.otp);
    expect((await followLink(server, first.link!)).fragment.get('error_code')).toBe('otp_expired');
    expect((await auth.verifyOtp({ email, token: second.otp!, type: 'signup' })).error).toBeNull();
  });

  it('pkce: the resent confirmation answers ?code=', async () => {
    const email = uniqueEmail('resend-pkce');
    await authClient(server).signUp({ email, password: 'pass-word-1' });
    await server.mail.next(email);
    const auth = authClient(server, 'pkce');
    expect((await auth.resend({ type: 'signup', email })).error).toBeNull();
    const mail = await server.mail.next(email);
    const followed = await followLink(server, mail.link!);
    expect((await auth.exchangeCodeForSession(followed.location.searchParams.get('code')!)).error).toBeNull();
  });

  it('sms: texts a new code to an unconfirmed phone and returns its message id', async () => {
    const phone = uniquePhone();
    const auth = authClient(server);
    await auth.signUp({ phone, password: 'pass-word-1' });
    const first = sms.lastTo(phone)!;
    const resent = await auth.resend({ type: 'sms', phone });
    expect(resent.error).toBeNull();
    expect(resent.data.messageId).toMatch(/^SM/);
    const second = sms.lastTo(phone)!;
    expect(second).not.toBe(first);
    expect((await auth.verifyOtp({ phone, token: second.otp, type: 'sms' })).error).toBeNull();
  });

  it('is a no-op ({}) for an unknown address, a confirmed user, and a user with no pending change', async () => {
    const confirmed = uniqueEmail('resend-confirmed');
    await createConfirmedUser(server, confirmed);
    for (const body of [
      { type: 'signup', email: uniqueEmail('resend-nobody') },
      { type: 'signup', email: confirmed },
      { type: 'email_change', email: confirmed },
      { type: 'sms', phone: uniquePhone() },
    ]) {
      const res = await request(server.app).post('/resend').set(API_VERSION).send(body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.body).toEqual({});
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(server.mail.pending(confirmed)).toEqual([]);
  });

  it.each([
    [{ email: 'a@example.com' }, 'Missing one of these types: signup, email_change, sms, phone_change'],
    [{ type: 'recovery', email: 'a@example.com' }, 'Missing one of these types: signup, email_change, sms, phone_change'],
    [{ type: 'signup', phone: '15551234567' }, 'Type provided requires an email address'],
    [{ type: 'sms', email: 'a@example.com' }, 'Type provided requires a phone number'],
    [{ type: 'email_change' }, 'Missing email address or phone number'],
    [{ type: 'email_change', email: 'a@example.com', phone: '15551234567' }, 'Only an email address or phone number should be provided.'],
  ])('refuses %j with 400 validation_failed', async (body, message) => {
    const res = await request(server.app).post('/resend').set(API_VERSION).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'validation_failed', message });
  });
});
