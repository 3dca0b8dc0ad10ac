import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { amrOf, createConfirmedUser, followLink } from '../helpers/email-flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const TEST_PHONE = '15550001111';

const sms = recordingSms();
const server = useTestApp({
  mail: true,
  env: { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_SMS_PROVIDER: 'twilio', GOTRUE_SMS_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', GOTRUE_SMS_TWILIO_AUTH_TOKEN: 'test-token', GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: 'MG00000000000000000000000000000000', GOTRUE_SMS_TEMPLATE: 'Your code for Example is {{ .Code }}', GOTRUE_SMS_TEST_OTP: `${TEST_PHONE}=424242`, GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' },
  overrides: { sms },
});
const { db } = server;

describe(`signInWithOtp by email through auth-js (${dbKind})`, () => {
  it('a confirmed user gets the magic link; following it lands with a session (type magiclink)', async () => {
    const email = uniqueEmail('magic');
    await createConfirmedUser(server, email);
    const auth = authClient(server);
    const sent = await auth.signInWithOtp({ email, options: { emailRedirectTo: 'http://app.test/home' } });
    expect(sent.error).toBeNull();
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Your Magic Link');
    expect(new URL(mail.link!).searchParams.get('type')).toBe('magiclink');
    const followed = await followLink(server, mail.link!);
    expect(followed.location.origin + followed.location.pathname).toBe('http://app.test/home');
    expect(followed.fragment.get('type')).toBe('magiclink');
    expect(amrOf(followed.fragment.get('access_token')!)).toEqual(['otp']);
  });

  it('the magic link mail’s code signs in through verifyOtp (type email)', async () => {
    const email = uniqueEmail('magic-code');
    await createConfirmedUser(server, email);
    const auth = authClient(server);
    expect((await auth.signInWithOtp({ email })).error).toBeNull();
    const mail = await server.mail.next(email);
    const verified = await auth.verifyOtp({ email, token: mail.otp!, type: 'email' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email).toBe(email);
    expect((await auth.getUser()).data.user?.id).toBe(verified.data.user?.id);
  });

  it('pkce: the magic link answers ?code= and the exchanged session has amr magiclink', async () => {
    const email = uniqueEmail('magic-pkce');
    await createConfirmedUser(server, email);
    const auth = authClient(server, 'pkce');
    expect((await auth.signInWithOtp({ email, options: { emailRedirectTo: 'http://app.test/cb' } })).error).toBeNull();
    const mail = await server.mail.next(email);
    const followed = await followLink(server, mail.link!);
    const exchanged = await auth.exchangeCodeForSession(followed.location.searchParams.get('code')!);
    expect(exchanged.error).toBeNull();
    expect(amrOf(exchanged.data.session!.access_token)).toEqual(['magiclink']);
  });

  it('an unknown address is signed up and gets the confirmation mail, whose code signs in; data lands in user_metadata', async () => {
    const email = uniqueEmail('otp-new');
    const auth = authClient(server);
    expect((await auth.signInWithOtp({ email, options: { data: { plan: 'trial' } } })).error).toBeNull();
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Confirm Your Email');
    const verified = await auth.verifyOtp({ email, token: mail.otp!, type: 'email' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email_confirmed_at).toBeTypeOf('string');
    expect(verified.data.user?.user_metadata).toMatchObject({ plan: 'trial', email_verified: true });
    // No password was set: password sign-in is refused.
    expect((await authClient(server).signInWithPassword({ email, password: '' })).error).not.toBeNull();
  });

  it('shouldCreateUser: false for an unknown address is 422 otp_disabled, and nothing is created', async () => {
    const email = uniqueEmail('otp-nocreate');
    const sent = await authClient(server).signInWithOtp({ email, options: { shouldCreateUser: false } });
    expect(sent.error?.status).toBe(422);
    expect(sent.error?.code).toBe('otp_disabled');
    expect(await db.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeUndefined();
  });

  it('a second request within GOTRUE_SMTP_MAX_FREQUENCY is 429 over_email_send_rate_limit', async () => {
    const email = uniqueEmail('otp-throttle');
    await createConfirmedUser(server, email);
    expect((await authClient(server).signInWithOtp({ email })).error).toBeNull();
    const again = await authClient(server).signInWithOtp({ email });
    expect(again.error?.status).toBe(429);
    expect(again.error?.code).toBe('over_email_send_rate_limit');
  });

  it('POST /magiclink sends the magic link to a known address', async () => {
    const email = uniqueEmail('magiclink-endpoint');
    await createConfirmedUser(server, email);
    const res = await request(server.app).post('/magiclink').set(API_VERSION).send({ email });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await server.mail.next(email)).subject).toBe('Your Magic Link');
  });
});

describe(`signInWithOtp by phone through auth-js (${dbKind})`, () => {
  it('texts a code with GOTRUE_SMS_TEMPLATE; verifyOtp (type sms) confirms the phone and signs in', async () => {
    const phone = uniquePhone();
    const auth = authClient(server);
    const sent = await auth.signInWithOtp({ phone: `+${phone}` });
    expect(sent.error).toBeNull();
    expect(sent.data.messageId).toMatch(/^SM\d+$/);
    const text = sms.lastTo(phone)!;
    expect(text.channel).toBe('sms');
    expect(text.body).toBe(`Your code for Example is ${text.otp}`);
    expect(text.otp).toMatch(/^\d{6}$/);

    const verified = await auth.verifyOtp({ phone: `+${phone}`, token: text.otp, type: 'sms' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.phone).toBe(phone);
    expect(verified.data.user?.phone_confirmed_at).toBeTypeOf('string');
    expect(verified.data.user?.identities?.[0]).toMatchObject({ provider: 'phone' });
    expect(amrOf(verified.data.session!.access_token)).toEqual(['otp']);

    // A confirmed phone user signs in again with a new code.
    const second = authClient(server);
    await db.db.updateTable('users').set({ confirmation_sent_at: new Date(Date.now() - 120_000) }).where('phone', '=', phone).execute();
    expect((await second.signInWithOtp({ phone })).error).toBeNull();
    const again = sms.lastTo(phone)!;
    expect(again.otp).not.toBe(text.otp);
    expect((await second.verifyOtp({ phone, token: again.otp, type: 'sms' })).error).toBeNull();
  });

  it('a GOTRUE_SMS_TEST_OTP phone gets its fixed code and no SMS', async () => {
    const before = sms.sent.length;
    const auth = authClient(server);
    expect((await auth.signInWithOtp({ phone: TEST_PHONE })).error).toBeNull();
    expect(sms.sent.length).toBe(before);
    const verified = await auth.verifyOtp({ phone: TEST_PHONE, token: '424242', type: 'sms' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.phone).toBe(TEST_PHONE);
  });

  it('signUp with a phone texts the confirmation code', async () => {
    const phone = uniquePhone();
    const auth = authClient(server);
    const signUp = await auth.signUp({ phone, password: 'pass-word-1' });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session).toBeNull();
    const text = sms.lastTo(phone)!;
    const verified = await auth.verifyOtp({ phone, token: text.otp, type: 'sms' });
    expect(verified.error).toBeNull();
    expect((await authClient(server).signInWithPassword({ phone, password: 'pass-word-1' })).error).toBeNull();
  });
});
