import { GoTrueAdminApi, type EmailOtpType, type GenerateLinkParams, type GenerateLinkProperties, type User } from '@supabase/auth-js';
import { describe, expect, it } from 'vitest';
import { otpTokenHash } from '../../src/crypto/otp';
import { followLink, type MailTestServer } from '../helpers/email-flows';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';
import { serviceRoleJwt } from '../helpers/tokens';

const server = useTestApp({ mail: true, env: { GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' } });
const { db } = server;
const single = useTestApp({ db, mail: true, env: { GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED: 'false' } });

/** supabase-js' `auth.admin`, built with the service_role key. */
function adminApi(s: MailTestServer = server): GoTrueAdminApi {
  const key = serviceRoleJwt(s.deps);
  return new GoTrueAdminApi({ url: `${s.url}/auth/v1`, headers: { apikey: key, Authorization: `Bearer ${key}` } });
}

async function generate(params: GenerateLinkParams, s: MailTestServer = server): Promise<{ properties: GenerateLinkProperties; user: User }> {
  const { data, error } = await adminApi(s).generateLink(params);
  expect(error).toBeNull();
  return { properties: data.properties!, user: data.user! };
}

async function confirmedUser(email: string, s: MailTestServer = server): Promise<User> {
  const { data, error } = await adminApi(s).createUser({ email, password: 'pass-word-1', email_confirm: true });
  expect(error).toBeNull();
  return data.user!;
}

type Mode = 'link' | 'otp' | 'otp as email' | 'token_hash';

interface Completed {
  email: string | undefined;
  /** The `type` of the redirect's fragment (link mode only). */
  fragmentType?: string | null;
}

/** Completes a generated link as its recipient would, then checks the same token cannot be used again. */
async function complete(s: MailTestServer, mode: Mode, p: GenerateLinkProperties, email: string, verifyType: EmailOtpType): Promise<Completed> {
  const auth = authClient(s);
  if (mode === 'link') {
    const followed = await followLink(s, p.action_link);
    expect(followed.status).toBe(303);
    expect(followed.location.origin + followed.location.pathname).toBe(new URL(p.redirect_to).origin + new URL(p.redirect_to).pathname);
    const accessToken = followed.fragment.get('access_token');
    expect(accessToken).toBeTruthy();
    const me = await auth.getUser(accessToken!);
    expect((await followLink(s, p.action_link)).fragment.get('error_code')).toBe('otp_expired');
    return { email: me.data.user?.email, fragmentType: followed.fragment.get('type') };
  }
  const run = () =>
    mode === 'token_hash'
      ? auth.verifyOtp({ token_hash: p.hashed_token, type: verifyType })
      : auth.verifyOtp({ email, token: p.email_otp, type: mode === 'otp as email' ? 'email' : verifyType });
  const verified = await run();
  expect(verified.error).toBeNull();
  expect(verified.data.session?.access_token).toBeTruthy();
  const replay = await run();
  expect([replay.error?.status, replay.error?.code]).toEqual([403, 'otp_expired']);
  return { email: verified.data.user?.email };
}

const MODES: Mode[] = ['link', 'otp', 'otp as email', 'token_hash'];

describe(`POST /admin/generate_link through auth-js (${dbKind})`, () => {
  it('answers the user with action_link, email_otp, hashed_token, verification_type and redirect_to, as a mail would carry them', async () => {
    const email = uniqueEmail('gl-shape');
    const { properties, user } = await generate({ type: 'signup', email, password: 'pass-word-1', options: { data: { plan: 'pro' }, redirectTo: 'http://app.test/welcome' } });
    expect(user).toMatchObject({ email, user_metadata: { plan: 'pro', email_verified: false }, app_metadata: { provider: 'email' } });
    expect(user.email_confirmed_at).toBeUndefined();
    expect(user.confirmation_sent_at).toBeTypeOf('string');
    expect(properties.verification_type).toBe('signup');
    expect(properties.redirect_to).toBe('http://app.test/welcome');
    expect(properties.email_otp).toMatch(/^\d{6}$/);
    expect(properties.hashed_token).toBe(otpTokenHash(email, properties.email_otp));
    const link = new URL(properties.action_link);
    expect(link.origin + link.pathname).toBe('http://localhost:9999/verify');
    expect(Object.fromEntries(link.searchParams)).toEqual({ token: properties.hashed_token, type: 'signup', redirect_to: 'http://app.test/welcome' });

    // Stored hashed, in the users column and in one_time_tokens, with the audit row.
    const row = await db.db.selectFrom('users').select(['confirmation_token']).where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.confirmation_token).toBe(properties.hashed_token);
    const tokens = await db.db.selectFrom('one_time_tokens').select(['token_type', 'token_hash', 'relates_to']).where('user_id', '=', user.id).execute();
    expect(tokens).toEqual([{ token_type: 'confirmation_token', token_hash: properties.hashed_token, relates_to: email }]);
    const audit = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    expect(audit.some((a) => a.payload?.['actor_id'] === user.id && a.payload?.['action'] === 'user_confirmation_requested')).toBe(true);
    expect(server.mail.mails).toEqual([]);
  });

  it('a redirect_to outside the allow list falls back to SITE_URL', async () => {
    const { properties } = await generate({ type: 'signup', email: uniqueEmail('gl-redirect'), password: 'pass-word-1', options: { redirectTo: 'https://evil.test/' } });
    expect(properties.redirect_to).toBe('http://localhost:3000');
    expect(new URL(properties.action_link).searchParams.get('redirect_to')).toBe('http://localhost:3000');
  });

  for (const mode of MODES) {
    it(`signup (${mode}): the new user is confirmed and signs in with the password`, async () => {
      const email = uniqueEmail('gl-signup');
      const { properties } = await generate({ type: 'signup', email, password: 'pass-word-1', options: { redirectTo: 'http://app.test/in' } });
      const done = await complete(server, mode, properties, email, 'signup');
      expect(done.email).toBe(email);
      if (mode === 'link') expect(done.fragmentType).toBe('signup');
      expect((await authClient(server).signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();
      expect(server.mail.pending(email)).toEqual([]);
    });

    it(`invite (${mode}): an invited user is created with the data and confirmed by the token`, async () => {
      const email = uniqueEmail('gl-invite');
      const { properties, user } = await generate({ type: 'invite', email, options: { data: { team: 'blue' } } });
      expect(properties.verification_type).toBe('invite');
      expect(user.invited_at).toBeTypeOf('string');
      expect(user.user_metadata).toMatchObject({ team: 'blue' });
      const done = await complete(server, mode, properties, email, 'invite');
      expect(done.email).toBe(email);
      if (mode === 'link') expect(done.fragmentType).toBe('invite');
      expect((await adminApi().getUserById(user.id)).data.user?.email_confirmed_at).toBeTypeOf('string');
      expect(server.mail.pending(email)).toEqual([]);
    });

    it(`magiclink for a confirmed user (${mode}): a magic-link token signs them in`, async () => {
      const email = uniqueEmail('gl-magic');
      await confirmedUser(email);
      const { properties, user } = await generate({ type: 'magiclink', email });
      expect(properties.verification_type).toBe('magiclink');
      expect(new URL(properties.action_link).searchParams.get('type')).toBe('magiclink');
      expect(user.recovery_sent_at).toBeTypeOf('string');
      const done = await complete(server, mode, properties, email, 'magiclink');
      expect(done.email).toBe(email);
      if (mode === 'link') expect(done.fragmentType).toBe('magiclink');
      expect(server.mail.pending(email)).toEqual([]);
    });

    it(`magiclink for an unknown address (${mode}): becomes a signup, reported as such`, async () => {
      const email = uniqueEmail('gl-magic-new');
      const { properties, user } = await generate({ type: 'magiclink', email, options: { data: { from: 'magic' } } });
      expect(properties.verification_type).toBe('signup');
      expect(new URL(properties.action_link).searchParams.get('type')).toBe('signup');
      expect(user).toMatchObject({ email, user_metadata: { from: 'magic' } });
      const done = await complete(server, mode, properties, email, 'signup');
      expect(done.email).toBe(email);
      expect(server.mail.pending(email)).toEqual([]);
    });

    it(`recovery (${mode}): the token signs the user in (type recovery)`, async () => {
      const email = uniqueEmail('gl-recover');
      await confirmedUser(email);
      const { properties } = await generate({ type: 'recovery', email, options: { redirectTo: 'http://app.test/reset' } });
      expect(properties.verification_type).toBe('recovery');
      const done = await complete(server, mode, properties, email, 'recovery');
      expect(done.email).toBe(email);
      if (mode === 'link') expect(done.fragmentType).toBe('recovery');
      expect(server.mail.pending(email)).toEqual([]);
    });
  }

  it('generating again replaces the previous token of that kind, without a send throttle', async () => {
    const email = uniqueEmail('gl-again');
    await confirmedUser(email);
    const first = await generate({ type: 'recovery', email });
    const second = await generate({ type: 'recovery', email });
    expect(second.properties.hashed_token).not.toBe(first.properties.hashed_token);
    const stale = await authClient(server).verifyOtp({ token_hash: first.properties.hashed_token, type: 'recovery' });
    expect(stale.error?.code).toBe('otp_expired');
    expect((await authClient(server).verifyOtp({ token_hash: second.properties.hashed_token, type: 'recovery' })).error).toBeNull();
  });

  it('signup again refreshes an unconfirmed user’s metadata (not its password); invite re-invites it', async () => {
    const email = uniqueEmail('gl-reinvite');
    const first = await generate({ type: 'signup', email, password: 'pass-word-1', options: { data: { a: 1 } } });
    // The password of a repeated signup is ignored, as in GoTrue: the user keeps the first one.
    const again = await generate({ type: 'signup', email, password: 'ignored-pass-1', options: { data: { b: 2 } } });
    expect(again.user.id).toBe(first.user.id);
    expect(again.user.user_metadata).toMatchObject({ a: 1, b: 2 });
    const invited = await generate({ type: 'invite', email });
    expect(invited.user.id).toBe(first.user.id);
    expect(invited.user.invited_at).toBeTypeOf('string');
    expect((await authClient(server).verifyOtp({ email, token: invited.properties.email_otp, type: 'invite' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();
  });
});

describe(`generate_link email changes (${dbKind})`, () => {
  it('secure change by links: the current and the new side must both be confirmed, then the email is swapped', async () => {
    const email = uniqueEmail('gl-from');
    const user = await confirmedUser(email);
    const next = uniqueEmail('gl-to');
    const current = await generate({ type: 'email_change_current', email, newEmail: next, options: { redirectTo: 'http://app.test/changed' } });
    const toNew = await generate({ type: 'email_change_new', email, newEmail: next, options: { redirectTo: 'http://app.test/changed' } });
    expect(current.properties.verification_type).toBe('email_change_current');
    expect(toNew.properties.verification_type).toBe('email_change_new');
    expect(toNew.user.new_email).toBe(next);
    expect(current.properties.hashed_token).toBe(otpTokenHash(email, current.properties.email_otp));
    expect(toNew.properties.hashed_token).toBe(otpTokenHash(next, toNew.properties.email_otp));
    expect(new URL(toNew.properties.action_link).searchParams.get('type')).toBe('email_change');

    const first = await followLink(server, current.properties.action_link);
    expect(first.fragment.get('message')).toBe('Confirmation link accepted. Please proceed to confirm link sent to the other email');
    expect((await adminApi().getUserById(user.id)).data.user?.email).toBe(email);
    const second = await followLink(server, toNew.properties.action_link);
    expect(second.fragment.get('type')).toBe('email_change');
    expect(second.fragment.get('access_token')).toBeTruthy();
    const after = (await adminApi().getUserById(user.id)).data.user!;
    expect(after.email).toBe(next);
    expect(after.new_email).toBeUndefined();
    expect((await followLink(server, toNew.properties.action_link)).fragment.get('error_code')).toBe('otp_expired');
    expect((await authClient(server).signInWithPassword({ email: next, password: 'pass-word-1' })).error).toBeNull();
    expect(server.mail.pending(email)).toEqual([]);
    expect(server.mail.pending(next)).toEqual([]);
  });

  it('secure change by codes: email_otp of the new side, then token_hash of the current side', async () => {
    const email = uniqueEmail('gl-from');
    await confirmedUser(email);
    const next = uniqueEmail('gl-to');
    const toNew = await generate({ type: 'email_change_new', email, newEmail: next });
    const current = await generate({ type: 'email_change_current', email, newEmail: next });
    const auth = authClient(server);
    const first = await auth.verifyOtp({ type: 'email_change', email: next, token: toNew.properties.email_otp });
    expect(first.error).toBeNull();
    expect(first.data.session).toBeNull();
    const replay = await auth.verifyOtp({ type: 'email_change', email: next, token: toNew.properties.email_otp });
    expect(replay.error?.code).toBe('otp_expired');
    const second = await auth.verifyOtp({ type: 'email_change', token_hash: current.properties.hashed_token });
    expect(second.error).toBeNull();
    expect(second.data.user?.email).toBe(next);
  });

  it('a different new_email replaces the pending change and revokes the other side of the old one', async () => {
    const email = uniqueEmail('gl-from');
    const user = await confirmedUser(email);
    const stale = await generate({ type: 'email_change_current', email, newEmail: uniqueEmail('gl-first') });
    const next = uniqueEmail('gl-second');
    const toNew = await generate({ type: 'email_change_new', email, newEmail: next });
    expect(toNew.user.new_email).toBe(next);
    expect((await authClient(server).verifyOtp({ type: 'email_change', token_hash: stale.properties.hashed_token })).error?.code).toBe('otp_expired');
    // Only the new side of this change exists, so its confirmation completes it.
    expect((await authClient(server).verifyOtp({ type: 'email_change', token_hash: toNew.properties.hashed_token })).error).toBeNull();
    expect((await adminApi().getUserById(user.id)).data.user?.email).toBe(next);
  });

  it('without secure change, email_change_new completes alone and email_change_current is refused', async () => {
    const email = uniqueEmail('gl-single');
    const user = await confirmedUser(email, single);
    const next = uniqueEmail('gl-single-to');
    const refused = await adminApi(single).generateLink({ type: 'email_change_current', email, newEmail: next });
    expect([refused.error?.status, refused.error?.code]).toEqual([400, 'validation_failed']);
    const toNew = await generate({ type: 'email_change_new', email, newEmail: next }, single);
    const followed = await followLink(single, toNew.properties.action_link);
    expect(followed.fragment.get('access_token')).toBeTruthy();
    expect((await adminApi(single).getUserById(user.id)).data.user?.email).toBe(next);
    expect(single.mail.mails).toEqual([]);
  });

  it('no mail reached the SMTP listener in any of these flows', async () => {
    await new Promise((r) => setTimeout(r, 200));
    expect(server.mail.mails).toEqual([]);
    expect(single.mail.mails).toEqual([]);
  });
});
