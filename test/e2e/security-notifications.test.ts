import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { totpCodeAt } from '../../src/crypto/totp';
import { createConfirmedUser } from '../helpers/email-flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { useTempDirs } from '../helpers/temp-dirs';
import { authClient, useTestApp } from '../helpers/test-app';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

const KINDS = ['PASSWORD_CHANGED', 'EMAIL_CHANGED', 'PHONE_CHANGED', 'IDENTITY_LINKED', 'IDENTITY_UNLINKED', 'MFA_FACTOR_ENROLLED', 'MFA_FACTOR_UNENROLLED'];
const enabled = Object.fromEntries(KINDS.map((k) => [`GOTRUE_MAILER_NOTIFICATIONS_${k}_ENABLED`, 'true']));

const makeDir = useTempDirs('notify-');
let customTemplate = '';
const sms = recordingSms();
const server = useTestApp({
  mail: true,
  env: () => {
    customTemplate = join(makeDir(), 'password-changed.html');
    writeFileSync(customTemplate, '<p>Custom: the password of {{ .Email }} changed ({{ .Data.name }}).</p>');
    return {
      ...enabled,
      GOTRUE_EXTERNAL_PHONE_ENABLED: 'true',
      GOTRUE_SECURITY_MANUAL_LINKING_ENABLED: 'true',
      GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED: 'false',
      GOTRUE_SMTP_MAX_FREQUENCY: '0s',
      GOTRUE_MAILER_TEMPLATES_PASSWORD_CHANGED_NOTIFICATION: customTemplate,
      GOTRUE_MAILER_SUBJECTS_MFA_FACTOR_ENROLLED_NOTIFICATION: 'A factor was added to your account',
    };
  },
  overrides: { sms },
});

const as = (token: string) => ({ Authorization: `Bearer ${token}`, ...API_VERSION });

async function signedIn(tag: string) {
  const email = uniqueEmail(tag);
  const session = await createConfirmedUser(server, email);
  return { email, session };
}

describe('security notification mails', () => {
  it('password changed: the user is told, with the custom template (GOTRUE_MAILER_TEMPLATES_PASSWORD_CHANGED_NOTIFICATION)', async () => {
    const { email, session } = await signedIn('pw');
    await request(server.app).put('/user').set(as(session.access_token)).send({ data: { name: 'Ada' } }).expect(200);
    const auth = authClient(server);
    await auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    expect((await auth.updateUser({ password: 'a-new-pass-word-2' })).error).toBeNull();
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Your password was changed');
    expect(mail.html).toContain(`Custom: the password of ${email} changed (Ada).`);
  });

  it('email changed: the old address is told, with the default template', async () => {
    const { email, session } = await signedIn('old');
    const next = uniqueEmail('new');
    await request(server.app).put('/user').set(as(session.access_token)).send({ email: next }).expect(200);
    const confirm = await server.mail.next(next);
    const verified = await request(server.app).post('/verify').set(API_VERSION).send({ type: 'email_change', email: next, token: confirm.otp });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Your email address was changed');
    expect(mail.text).toContain(`The email address for your account was changed from ${email} to ${next}.`);
    expect(server.mail.pending(next)).toEqual([]);
  });

  it('phone changed, then the phone identity unlinked: one mail each', async () => {
    const { email, session } = await signedIn('phone');
    const phone = uniquePhone();
    await request(server.app).put('/user').set(as(session.access_token)).send({ phone }).expect(200);
    const verified = await request(server.app).post('/verify').set(API_VERSION).send({ type: 'phone_change', phone, token: sms.lastTo(phone)!.otp });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const changed = await server.mail.next(email);
    expect(changed.subject).toBe('Your phone number was changed');
    expect(changed.text).toContain(`to ${phone}.`);

    const phoneIdentity = (verified.body.user.identities as { identity_id: string; provider: string }[]).find((i) => i.provider === 'phone')!;
    await request(server.app).delete(`/user/identities/${phoneIdentity.identity_id}`).set(as(verified.body.access_token)).expect(200);
    const unlinked = await server.mail.next(email);
    expect(unlinked.subject).toBe('A sign-in method was removed from your account');
    expect(unlinked.text).toContain(`Your phone account was removed as a sign-in method for ${email}.`);
  });

  it('MFA factor enrolled (on its first verification) and unenrolled, with a custom subject', async () => {
    const { email, session } = await signedIn('mfa');
    const enrolled = await request(server.app).post('/factors').set(as(session.access_token)).send({ factor_type: 'totp', friendly_name: 'phone app' });
    expect(enrolled.status).toBe(200);
    const challenge = await request(server.app).post(`/factors/${enrolled.body.id}/challenge`).set(as(session.access_token)).send({});
    const verified = await request(server.app)
      .post(`/factors/${enrolled.body.id}/verify`)
      .set(as(session.access_token))
      .send({ challenge_id: challenge.body.id, code: totpCodeAt(enrolled.body.totp.secret, new Date()) });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const added = await server.mail.next(email);
    expect(added.subject).toBe('A factor was added to your account');
    expect(added.text).toContain('Sign-in verification method totp was added to your account.');

    await request(server.app).delete(`/factors/${enrolled.body.id}`).set(as(verified.body.access_token)).expect(200);
    const removed = await server.mail.next(email);
    expect(removed.subject).toBe('A verification method was removed from your account');
    expect(removed.text).toContain('Sign-in verification method totp was removed from your account.');
  });

  it('a failing mail server never fails the change: the password is changed, the answer is 200', async () => {
    const { email, session } = await signedIn('fail');
    server.mail.fail = 'data';
    try {
      const r = await request(server.app).put('/user').set(as(session.access_token)).send({ password: 'another-pass-word-3' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    } finally {
      server.mail.fail = 'none';
    }
    const signIn = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password: 'another-pass-word-3' });
    expect(signIn.status).toBe(200);
  });
});
