import { GoTrueClient } from '@supabase/auth-js';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { amrOf, createConfirmedUser, followLink, type MailTestServer } from '../helpers/email-flows';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const secure = useTestApp({ mail: true, env: { GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' } });
const { db } = secure;
const single = useTestApp({ db, mail: true, env: { GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED: 'false' } });

async function signedIn(server: MailTestServer, flowType: 'implicit' | 'pkce' = 'implicit') {
  const email = uniqueEmail('change-from');
  const session = await createConfirmedUser(server, email);
  const auth = authClient(server, flowType);
  expect((await auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token })).error).toBeNull();
  return { auth, email, session };
}

describe(`email change through auth-js (${dbKind})`, () => {
  it('secure (default): both addresses get a mail; the first link answers the first-leg message, the second moves the address', async () => {
    const { auth, email } = await signedIn(secure);
    const next = uniqueEmail('change-to');
    const updated = await auth.updateUser({ email: next }, { emailRedirectTo: 'http://app.test/changed' });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.email).toBe(email);
    expect(updated.data.user?.new_email).toBe(next);
    expect(updated.data.user?.email_change_sent_at).toBeTypeOf('string');

    const toNew = await secure.mail.next(next);
    const toCurrent = await secure.mail.next(email);
    for (const m of [toNew, toCurrent]) {
      expect(m.subject).toBe('Confirm Email Change');
      expect(m.text).toContain(`from ${email} to ${next}`);
    }
    const first = await followLink(secure, toCurrent.link!);
    expect(first.status).toBe(303);
    expect(first.location.origin + first.location.pathname).toBe('http://app.test/changed');
    expect(Object.fromEntries(first.fragment)).toEqual({ message: 'Confirmation link accepted. Please proceed to confirm link sent to the other email', sb: '' });
    expect((await auth.getUser()).data.user?.email).toBe(email);

    const second = await followLink(secure, toNew.link!);
    expect(second.fragment.get('type')).toBe('email_change');
    expect(second.fragment.get('access_token')).toBeTruthy();
    const user = (await auth.getUser()).data.user!;
    expect(user.email).toBe(next);
    expect(user.new_email).toBeUndefined();
    expect(user.identities?.find((i) => i.provider === 'email')?.identity_data?.email).toBe(next);
    expect((await authClient(secure).signInWithPassword({ email: next, password: 'pass-word-1' })).error).toBeNull();
    expect((await authClient(secure).signInWithPassword({ email, password: 'pass-word-1' })).error?.code).toBe('invalid_credentials');
  });

  it('secure, by codes: verifyOtp (type email_change) answers the first-leg message, then a session', async () => {
    const { auth, email } = await signedIn(secure);
    const next = uniqueEmail('change-code');
    expect((await auth.updateUser({ email: next })).error).toBeNull();
    const toNew = await secure.mail.next(next);
    const toCurrent = await secure.mail.next(email);
    const first = await request(secure.app).post('/verify').set(API_VERSION).send({ type: 'email_change', email: next, token: toNew.otp });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ msg: 'Confirmation link accepted. Please proceed to confirm link sent to the other email', code: '200' });
    const second = await auth.verifyOtp({ type: 'email_change', email, token: toCurrent.otp! });
    expect(second.error).toBeNull();
    expect(second.data.user?.email).toBe(next);
    expect(amrOf(second.data.session!.access_token)).toEqual(['otp']);
  });

  it('pkce: the second link answers ?code= and the exchange has amr email_change', async () => {
    const email = uniqueEmail('change-from');
    const session = await createConfirmedUser(secure, email);
    // auth-js drops the stored verifier when updateUser saves the updated session, so this storage remembers the
    // last verifier written, as the tab that opens the mail's link would still hold it.
    const store = new Map<string, string>();
    let verifier: [string, string] | undefined;
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => {
        store.set(k, v);
        if (k.endsWith('-code-verifier')) verifier = [k, v];
      },
      removeItem: (k: string) => void store.delete(k),
    };
    const auth = new GoTrueClient({ url: `${secure.url}/auth/v1`, autoRefreshToken: false, persistSession: true, storage, detectSessionInUrl: false, flowType: 'pkce' });
    expect((await auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token })).error).toBeNull();
    const next = uniqueEmail('change-pkce');
    expect((await auth.updateUser({ email: next }, { emailRedirectTo: 'http://app.test/cb' })).error).toBeNull();
    storage.setItem(...verifier!);
    const toNew = await secure.mail.next(next);
    const toCurrent = await secure.mail.next(email);
    expect(new URL(toNew.link!).searchParams.get('token')).toMatch(/^pkce_/);
    expect(new URL(toCurrent.link!).searchParams.get('token')).toMatch(/^pkce_/);
    const first = await followLink(secure, toNew.link!);
    expect(first.location.searchParams.get('message')).toMatch(/^Confirmation link accepted/);
    expect(first.fragment.get('message')).toMatch(/^Confirmation link accepted/);
    const second = await followLink(secure, toCurrent.link!);
    const exchanged = await auth.exchangeCodeForSession(second.location.searchParams.get('code')!);
    expect(exchanged.error).toBeNull();
    expect(exchanged.data.user?.email).toBe(next);
    expect(amrOf(exchanged.data.session!.access_token)).toEqual(['email_change']);
  });

  it('without secure change only the new address is mailed, and one confirmation moves it', async () => {
    const { auth, email } = await signedIn(single);
    const next = uniqueEmail('change-single');
    expect((await auth.updateUser({ email: next })).error).toBeNull();
    const toNew = await single.mail.next(next);
    await new Promise((r) => setTimeout(r, 100));
    expect(single.mail.pending(email)).toEqual([]);
    const done = await followLink(single, toNew.link!);
    expect(done.fragment.get('type')).toBe('email_change');
    expect((await auth.getUser()).data.user?.email).toBe(next);
  });

  it('a second change within the throttle window is 429; resend (type email_change) after it sends both mails again', async () => {
    const { auth, email } = await signedIn(secure);
    const next = uniqueEmail('change-resend');
    expect((await auth.updateUser({ email: next })).error).toBeNull();
    await secure.mail.next(next);
    await secure.mail.next(email);
    const again = await auth.updateUser({ email: uniqueEmail('change-other') });
    expect(again.error?.status).toBe(429);
    expect(again.error?.code).toBe('over_email_send_rate_limit');
    await db.db.updateTable('users').set({ email_change_sent_at: new Date(Date.now() - 120_000) }).where('email', '=', email).execute();
    expect((await auth.resend({ type: 'email_change', email })).error).toBeNull();
    const toNew = await secure.mail.next(next);
    const toCurrent = await secure.mail.next(email);
    await followLink(secure, toNew.link!);
    expect((await followLink(secure, toCurrent.link!)).fragment.get('type')).toBe('email_change');
    expect((await auth.getUser()).data.user?.email).toBe(next);
  });
});
