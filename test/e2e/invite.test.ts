import { hs256Signer } from '../helpers/tokens';
import { GoTrueClient } from '@supabase/auth-js';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/cli/embedded';
import { createConfirmedUser, followLink } from '../helpers/email-flows';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ mail: true, env: { GOTRUE_URI_ALLOW_LIST: 'http://app.test/**' } });
const { db } = server;
const keys = await apiKeys(hs256Signer());

const admin = () =>
  new GoTrueClient({ url: `${server.url}/auth/v1`, headers: { Authorization: `Bearer ${keys.serviceRole}` }, autoRefreshToken: false, persistSession: false }).admin;

describe(`invite through auth-js (${dbKind})`, () => {
  it('inviteUserByEmail mails an invite; its link confirms and signs in; the user then sets a password', async () => {
    const email = uniqueEmail('invitee');
    const invited = await admin().inviteUserByEmail(email, { data: { team: 'blue' }, redirectTo: 'http://app.test/welcome' });
    expect(invited.error).toBeNull();
    expect(invited.data.user).toMatchObject({ email, user_metadata: { team: 'blue' } });
    expect(invited.data.user?.invited_at).toBeTypeOf('string');
    expect(invited.data.user?.email_confirmed_at).toBeUndefined();

    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('You have been invited');
    expect(mail.text).toContain('http://localhost:3000');
    const followed = await followLink(server, mail.link!);
    expect(followed.location.origin + followed.location.pathname).toBe('http://app.test/welcome');
    expect(followed.fragment.get('type')).toBe('invite');

    const auth = authClient(server);
    expect((await auth.setSession({ access_token: followed.fragment.get('access_token')!, refresh_token: followed.fragment.get('refresh_token')! })).error).toBeNull();
    expect((await auth.getUser()).data.user?.email_confirmed_at).toBeTypeOf('string');
    expect((await auth.updateUser({ password: 'chosen-password-1' })).error).toBeNull();
    expect((await authClient(server).signInWithPassword({ email, password: 'chosen-password-1' })).error).toBeNull();

    const audit = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    expect(audit.map((r) => r.payload as Record<string, unknown>).find((p) => p.action === 'user_invited' && (p.traits as Record<string, unknown>).user_email === email)).toMatchObject({
      log_type: 'team',
      actor_username: 'service_role',
    });
  });

  it('the invite’s code works through verifyOtp (type invite)', async () => {
    const email = uniqueEmail('invitee-code');
    expect((await admin().inviteUserByEmail(email)).error).toBeNull();
    const mail = await server.mail.next(email);
    const verified = await authClient(server).verifyOtp({ email, token: mail.otp!, type: 'invite' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email).toBe(email);
  });

  it('refuses an address that is already confirmed with 422 email_exists', async () => {
    const email = uniqueEmail('invite-taken');
    await createConfirmedUser(server, email);
    const res = await admin().inviteUserByEmail(email);
    expect([res.error?.status, res.error?.code]).toEqual([422, 'email_exists']);
  });

  it.each([
    ['no token', undefined, 401, 'no_authorization'],
    ['the anon key', () => keys.anon, 403, 'not_admin'],
    ['a forged token', async () => (await apiKeys(hs256Signer('another-secret-that-is-32-bytes-long!!'))).serviceRole, 403, 'bad_jwt'],
  ])('refuses %s', async (_name, token, status, code) => {
    const req = request(server.app).post('/invite').set(API_VERSION);
    if (token) req.set('Authorization', `Bearer ${await token()}`);
    const res = await req.send({ email: uniqueEmail('invite-denied') });
    expect([res.status, res.body.code]).toEqual([status, code]);
  });
});
