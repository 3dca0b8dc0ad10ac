import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { claimsOf } from '../helpers/flows';
import { followLink } from '../helpers/email-flows';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ mail: true, env: { GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' } });

const amrOf = (accessToken: string) => (claimsOf(accessToken).amr as { method: string }[]).map((a) => a.method);

describe(`sign-up with email confirmation through auth-js (${dbKind})`, () => {
  it('implicit: signUp sends the confirmation mail; its link confirms and lands with a session in the fragment', async () => {
    const auth = authClient(server);
    const email = uniqueEmail('implicit');
    const signUp = await auth.signUp({ email, password: 'pass-word-1', options: { emailRedirectTo: 'http://app.test/welcome', data: { name: 'Ada' } } });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session).toBeNull();
    expect(signUp.data.user?.email).toBe(email);
    expect(signUp.data.user?.confirmation_sent_at).toBeTypeOf('string');

    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Confirm Your Email');
    expect(mail.otp).toMatch(/^\d{6}$/);
    const link = new URL(mail.link!);
    expect(link.pathname).toBe('/verify');
    expect(link.searchParams.get('type')).toBe('signup');
    expect(link.searchParams.get('redirect_to')).toBe('http://app.test/welcome');
    expect(link.searchParams.get('token')).toMatch(/^[0-9a-f]{56}$/);

    const followed = await followLink(server, mail.link!);
    expect(followed.status).toBe(303);
    expect(followed.location.origin + followed.location.pathname).toBe('http://app.test/welcome');
    expect([...followed.fragment.keys()]).toEqual(['access_token', 'expires_at', 'expires_in', 'refresh_token', 'sb', 'token_type', 'type']);
    expect(followed.fragment.get('type')).toBe('signup');
    expect(followed.fragment.get('token_type')).toBe('bearer');
    expect(amrOf(followed.fragment.get('access_token')!)).toEqual(['otp']);

    const set = await auth.setSession({ access_token: followed.fragment.get('access_token')!, refresh_token: followed.fragment.get('refresh_token')! });
    expect(set.error).toBeNull();
    const user = (await auth.getUser()).data.user!;
    expect(user.email_confirmed_at).toBeTypeOf('string');
    expect(user.user_metadata).toMatchObject({ name: 'Ada', email_verified: true });
    expect(user.identities?.[0]?.identity_data?.email_verified).toBe(true);
    expect((await authClient(server).signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();

    const again = await followLink(server, mail.link!);
    expect(again.status).toBe(303);
    expect(Object.fromEntries(again.fragment)).toEqual({ error: 'access_denied', error_code: 'otp_expired', error_description: 'Email link is invalid or has expired', sb: '' });
  });

  it('code: the same mail’s code confirms through verifyOtp (type email)', async () => {
    const auth = authClient(server);
    const email = uniqueEmail('code');
    expect((await auth.signUp({ email, password: 'pass-word-1' })).error).toBeNull();
    const mail = await server.mail.next(email);
    const verified = await auth.verifyOtp({ email, token: mail.otp!, type: 'email' });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.access_token).toBeTruthy();
    expect(verified.data.user?.email_confirmed_at).toBeTypeOf('string');
    expect(amrOf(verified.data.session!.access_token)).toEqual(['otp']);
    // Used up: the link of that mail no longer works either.
    expect((await followLink(server, mail.link!)).fragment.get('error_code')).toBe('otp_expired');
  });

  it('pkce: the link answers ?code= and exchangeCodeForSession signs in with amr email/signup', async () => {
    const auth = authClient(server, 'pkce');
    const email = uniqueEmail('pkce');
    expect((await auth.signUp({ email, password: 'pass-word-1', options: { emailRedirectTo: 'http://app.test/cb?x=1' } })).error).toBeNull();
    const mail = await server.mail.next(email);
    expect(new URL(mail.link!).searchParams.get('token')).toMatch(/^pkce_[0-9a-f]{56}$/);

    const followed = await followLink(server, mail.link!);
    expect(followed.status).toBe(303);
    expect(followed.location.origin + followed.location.pathname).toBe('http://app.test/cb');
    expect(followed.location.searchParams.get('x')).toBe('1');
    const code = followed.location.searchParams.get('code')!;
    expect(code).toMatch(/^[0-9a-f-]{36}$/);

    const exchanged = await auth.exchangeCodeForSession(code);
    expect(exchanged.error).toBeNull();
    expect(exchanged.data.user?.email).toBe(email);
    expect(exchanged.data.user?.email_confirmed_at).toBeTypeOf('string');
    expect(amrOf(exchanged.data.session!.access_token)).toEqual(['email/signup']);

    const replay = await followLink(server, mail.link!);
    expect(replay.location.searchParams.get('error_code')).toBe('otp_expired');
    expect(replay.fragment.get('error_code')).toBe('otp_expired');
  });

  it('an unknown redirect_to falls back to SITE_URL, never an open redirect', async () => {
    const email = uniqueEmail('redirect');
    await request(server.app).post('/signup?redirect_to=https://evil.example/steal').set(API_VERSION).send({ email, password: 'pass-word-1' });
    const mail = await server.mail.next(email);
    expect(new URL(mail.link!).searchParams.get('redirect_to')).toBe('http://localhost:3000');
    const evil = await followLink(server, mail.link!.replace('redirect_to=http%3A%2F%2Flocalhost%3A3000', 'redirect_to=https%3A%2F%2Fevil.example'));
    expect(evil.location.origin).toBe('http://localhost:3000');
    expect(evil.fragment.get('access_token')).toBeTruthy();
  });

  it('a repeated sign-up of an unconfirmed address resends the confirmation, throttled by GOTRUE_SMTP_MAX_FREQUENCY', async () => {
    const email = uniqueEmail('repeat');
    const first = await request(server.app).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1' });
    expect(first.status).toBe(200);
    const mail = await server.mail.next(email);
    const again = await request(server.app).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1' });
    expect(again.status).toBe(429);
    expect(again.body).toEqual({ code: 'over_email_send_rate_limit', message: expect.stringMatching(/^For security purposes, you can only request this after (59|60) seconds\.$/) });
    expect(server.mail.pending(email)).toEqual([]);
    // The first mail still works.
    expect((await followLink(server, mail.link!)).fragment.get('access_token')).toBeTruthy();
  });
});
