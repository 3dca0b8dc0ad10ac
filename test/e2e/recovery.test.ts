import type { AuthChangeEvent } from '@supabase/auth-js';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { amrOf, createConfirmedUser, followLink } from '../helpers/email-flows';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ mail: true, env: { GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' } });

describe(`password recovery through auth-js (${dbKind})`, () => {
  it('implicit: resetPasswordForEmail mails a link landing with type=recovery; updateUser sets the new password', async () => {
    const email = uniqueEmail('recover');
    await createConfirmedUser(server, email, 'old-password-1');
    const auth = authClient(server);
    const sent = await auth.resetPasswordForEmail(email, { redirectTo: 'http://app.test/reset' });
    expect(sent.error).toBeNull();
    expect(sent.data).toEqual({});
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Reset Your Password');
    const followed = await followLink(server, mail.link!);
    expect(followed.location.origin + followed.location.pathname).toBe('http://app.test/reset');
    expect(followed.fragment.get('type')).toBe('recovery');

    expect((await auth.setSession({ access_token: followed.fragment.get('access_token')!, refresh_token: followed.fragment.get('refresh_token')! })).error).toBeNull();
    expect((await auth.updateUser({ password: 'new-password-2' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'new-password-2' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'old-password-1' })).error?.code).toBe('invalid_credentials');
  });

  it('pkce: the code exchange fires PASSWORD_RECOVERY, with amr recovery, and the password can then be changed', async () => {
    const email = uniqueEmail('recover-pkce');
    await createConfirmedUser(server, email, 'old-password-1');
    const auth = authClient(server, 'pkce');
    const events: AuthChangeEvent[] = [];
    auth.onAuthStateChange((event) => {
      events.push(event);
    });
    expect((await auth.resetPasswordForEmail(email, { redirectTo: 'http://app.test/reset' })).error).toBeNull();
    const mail = await server.mail.next(email);
    expect(new URL(mail.link!).searchParams.get('token')).toMatch(/^pkce_/);
    const followed = await followLink(server, mail.link!);
    const exchanged = await auth.exchangeCodeForSession(followed.location.searchParams.get('code')!);
    expect(exchanged.error).toBeNull();
    expect((exchanged.data as { redirectType?: string | null }).redirectType).toBe('recovery');
    expect(events).toContain('PASSWORD_RECOVERY');
    expect(amrOf(exchanged.data.session!.access_token)).toEqual(['recovery']);
    expect((await auth.updateUser({ password: 'new-password-2' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'new-password-2' })).error).toBeNull();
  });

  it('the mailed code works through verifyOtp (type recovery), which fires PASSWORD_RECOVERY', async () => {
    const email = uniqueEmail('recover-code');
    await createConfirmedUser(server, email);
    const auth = authClient(server);
    const events: AuthChangeEvent[] = [];
    auth.onAuthStateChange((event) => {
      events.push(event);
    });
    await auth.resetPasswordForEmail(email);
    const mail = await server.mail.next(email);
    const verified = await auth.verifyOtp({ email, token: mail.otp!, type: 'recovery' });
    expect(verified.error).toBeNull();
    expect(events).toContain('PASSWORD_RECOVERY');
  });

  it('answers {} for an unknown address, sending nothing; inside the throttle window a known one gets 429 and no mail', async () => {
    const unknown = uniqueEmail('nobody');
    const res = await request(server.app).post('/recover').set(API_VERSION).send({ email: unknown });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});

    const email = uniqueEmail('recover-twice');
    await createConfirmedUser(server, email);
    expect((await request(server.app).post('/recover').set(API_VERSION).send({ email })).body).toEqual({});
    const first = await server.mail.next(email);
    const again = await request(server.app).post('/recover').set(API_VERSION).send({ email });
    expect([again.status, again.body.code]).toEqual([429, 'over_email_send_rate_limit']);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.mail.pending(email)).toEqual([]);
    expect(server.mail.pending(unknown)).toEqual([]);
    expect((await followLink(server, first.link!)).fragment.get('type')).toBe('recovery');
  });
});
