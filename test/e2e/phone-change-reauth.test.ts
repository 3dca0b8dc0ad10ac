import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { amrOf, createConfirmedUser } from '../helpers/email-flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

let offsetMs = 0;
const DAY = 24 * 3600_000;

const sms = recordingSms();
const server = useTestApp({
  mail: true,
  env: { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION: 'true', GOTRUE_SMTP_MAX_FREQUENCY: '0s' },
  overrides: { sms, clock: { now: () => new Date(Date.now() + offsetMs) } },
});
const { db } = server;

async function signedIn() {
  const email = uniqueEmail('phone-reauth');
  const session = await createConfirmedUser(server, email);
  const auth = authClient(server);
  expect((await auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token })).error).toBeNull();
  return { auth, email, session };
}

describe(`phone change through auth-js (${dbKind})`, () => {
  it('updateUser({phone}) texts a code to the new phone; verifyOtp (type phone_change) makes it the user’s, confirmed', async () => {
    const { auth } = await signedIn();
    const phone = uniquePhone();
    const updated = await auth.updateUser({ phone: `+${phone}` });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.phone).toBe('');
    expect(updated.data.user?.new_phone).toBe(phone);
    const text = sms.lastTo(phone)!;
    expect(text.body).toBe(`Your code is ${text.otp}`);

    const verified = await auth.verifyOtp({ phone, token: text.otp, type: 'phone_change' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.phone).toBe(phone);
    expect(verified.data.user?.phone_confirmed_at).toBeTypeOf('string');
    expect(verified.data.user?.new_phone).toBeUndefined();
    expect(verified.data.user?.identities?.map((i) => i.provider).sort()).toEqual(['email', 'phone']);
    expect(verified.data.user?.app_metadata.providers).toEqual(['email', 'phone']);
    expect(amrOf(verified.data.session!.access_token)).toEqual(['otp']);
  });

  it('a vendor failure is 422 sms_send_failed and leaves no pending phone change behind', async () => {
    const { auth, session } = await signedIn();
    sms.fail = true;
    try {
      const updated = await auth.updateUser({ phone: uniquePhone() });
      expect(updated.error?.status).toBe(422);
      expect(updated.error?.code).toBe('sms_send_failed');
      expect(updated.error?.message).not.toContain('AC-secret');
    } finally {
      sms.fail = false;
    }
    const row = await db.db.selectFrom('users').selectAll().where('id', '=', session.user.id).executeTakeFirstOrThrow();
    expect([row.phone_change, row.phone_change_token, row.phone_change_sent_at]).toEqual(['', '', null]);
    expect(await db.db.selectFrom('one_time_tokens').select('id').where('user_id', '=', session.user.id).where('token_type', '=', 'phone_change_token').execute()).toEqual([]);
    // The retry works at once (no throttle from the failed attempt).
    const phone = uniquePhone();
    expect((await auth.updateUser({ phone })).error).toBeNull();
    expect(sms.lastTo(phone)).toBeDefined();
  });
});

describe(`reauthentication for a password change (${dbKind})`, () => {
  it('a fresh session changes the password without a nonce', async () => {
    const { auth } = await signedIn();
    expect((await auth.updateUser({ password: 'fresh-password-2' })).error).toBeNull();
  });

  it('a session older than 24 h needs the nonce from reauthenticate(): missing 400, wrong 422, right 200, reused 422', async () => {
    const { auth, email } = await signedIn();
    offsetMs = DAY + 3600_000;
    try {
      expect((await auth.refreshSession()).error).toBeNull();
      const missing = await auth.updateUser({ password: 'new-password-2' });
      expect([missing.error?.status, missing.error?.code]).toEqual([400, 'reauthentication_needed']);

      expect((await auth.reauthenticate()).error).toBeNull();
      const mail = await server.mail.next(email);
      expect(mail.subject).toBe('Confirm reauthentication');
      expect(mail.link).toBeUndefined();
      const wrongCode = mail.otp === '000000' ? '111111' : '000000';
      const wrong = await auth.updateUser({ password: 'new-password-2', nonce: wrongCode });
      expect([wrong.error?.status, wrong.error?.code]).toEqual([422, 'reauthentication_not_valid']);

      const ok = await auth.updateUser({ password: 'new-password-2', nonce: mail.otp! });
      expect(ok.error).toBeNull();
      expect((await authClient(server).signInWithPassword({ email, password: 'new-password-2' })).error).toBeNull();

      const reused = await auth.updateUser({ password: 'new-password-3', nonce: mail.otp! });
      expect([reused.error?.status, reused.error?.code]).toEqual([422, 'reauthentication_not_valid']);
    } finally {
      offsetMs = 0;
    }
  });

  it('GET /reauthenticate needs a signed-in user', async () => {
    const res = await request(server.app).get('/reauthenticate').set(API_VERSION);
    expect([res.status, res.body.code]).toEqual([401, 'no_authorization']);
  });
});
