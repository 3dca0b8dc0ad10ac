import { AuthApiError, AuthWeakPasswordError, type GoTrueClient, isAuthApiError } from '@supabase/auth-js';
import { describe, expect, it } from 'vitest';
import { claimsOf } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ listen: true, env: { GOTRUE_PASSWORD_MIN_LENGTH: '8' } });

/** A supabase-js auth client as an app builds it: the /auth/v1 URL, in-memory session storage. */
const client = () => server.client();

describe(`@supabase/auth-js against the server (${dbKind})`, () => {
  it('drives signUp → signInWithPassword → getUser → refreshSession → updateUser → signOut', async () => {
    const auth = client();
    const email = uniqueEmail('authjs');

    const signUp = await auth.signUp({ email, password: 'first-password', options: { data: { plan: 'free' } } });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session?.access_token).toBeTruthy();
    expect(signUp.data.user?.email).toBe(email);
    expect(signUp.data.user?.user_metadata.plan).toBe('free');

    const signIn = await auth.signInWithPassword({ email, password: 'first-password' });
    expect(signIn.error).toBeNull();
    const session = signIn.data.session!;
    expect(session.expires_in).toBe(3600);
    expect(session.expires_at).toBeGreaterThan(Date.now() / 1000);

    const got = await auth.getUser();
    expect(got.error).toBeNull();
    expect(got.data.user?.id).toBe(signUp.data.user?.id);
    expect(got.data.user?.identities?.[0]?.provider).toBe('email');

    const refreshed = await auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(refreshed.data.session?.refresh_token).not.toBe(session.refresh_token);
    expect(claimsOf(refreshed.data.session!.access_token).session_id).toBe(claimsOf(session.access_token).session_id);

    const updated = await auth.updateUser({ password: 'second-password', data: { plan: 'pro', nick: 'x' } });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.user_metadata).toMatchObject({ plan: 'pro', nick: 'x' });

    const out = await auth.signOut();
    expect(out.error).toBeNull();
    expect((await auth.getSession()).data.session).toBeNull();

    const again = await client().signInWithPassword({ email, password: 'second-password' });
    expect(again.error).toBeNull();
    const old = await client().signInWithPassword({ email, password: 'first-password' });
    expect(old.error?.code).toBe('invalid_credentials');
  });

  it('signs out with each scope as GoTrue does', async () => {
    const email = uniqueEmail('scopes');
    await client().signUp({ email, password: 'pass-word-1' });
    const sign = async () => {
      const c = client();
      expect((await c.signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();
      return c;
    };
    const stillIn = async (c: GoTrueClient) => {
      const token = (await c.getSession()).data.session?.access_token;
      return token ? (await c.getUser(token)).error === null : false;
    };

    const b = await sign();
    let [a, c] = [await sign(), await sign()];
    expect((await a.signOut({ scope: 'local' })).error).toBeNull();
    expect([await stillIn(a), await stillIn(b), await stillIn(c)]).toEqual([false, true, true]);

    expect((await b.signOut({ scope: 'others' })).error).toBeNull();
    expect([await stillIn(b), await stillIn(c)]).toEqual([true, false]);

    [a, c] = [await sign(), await sign()];
    expect((await b.signOut({ scope: 'global' })).error).toBeNull();
    expect([await stillIn(a), await stillIn(b), await stillIn(c)]).toEqual([false, false, false]);
  });

  it('surfaces GoTrue’s error codes through AuthApiError', async () => {
    const auth = client();
    const email = uniqueEmail('errors');
    const weak = await auth.signUp({ email, password: 'short' });
    expect(weak.error).toBeInstanceOf(AuthWeakPasswordError);
    expect((weak.error as AuthWeakPasswordError).reasons).toEqual(['length']);
    expect(weak.error?.code).toBe('weak_password');

    await auth.signUp({ email, password: 'long-enough-1' });
    const dup = await client().signUp({ email, password: 'long-enough-1' });
    expect(isAuthApiError(dup.error)).toBe(true);
    expect([dup.error?.status, dup.error?.code]).toEqual([422, 'user_already_exists']);

    const bad = await client().signInWithPassword({ email, password: 'wrong-password' });
    expect(bad.error).toBeInstanceOf(AuthApiError);
    expect([bad.error?.status, bad.error?.code, bad.error?.message]).toEqual([400, 'invalid_credentials', 'Invalid login credentials']);

    const forged = await client().getUser('eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.');
    expect([forged.error?.status, forged.error?.code]).toEqual([403, 'bad_jwt']);
  });

  it('treats a reused refresh token as a dead session', async () => {
    const email = uniqueEmail('reuse');
    const auth = client();
    await auth.signUp({ email, password: 'pass-word-1' });
    const first = (await auth.getSession()).data.session!;
    await auth.refreshSession();
    await auth.refreshSession();
    const thief = client();
    const stolen = await thief.refreshSession({ refresh_token: first.refresh_token });
    expect(stolen.error?.code).toBe('refresh_token_already_used');
    const victim = await auth.refreshSession();
    expect(victim.error?.code).toBe('refresh_token_already_used');
  });
});
