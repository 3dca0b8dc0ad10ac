import type { GoTrueClient } from '@supabase/auth-js';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { totpCodeAt } from '../../src/crypto/totp';
import { adminHeaders } from '../helpers/admin';
import { claimsOf } from '../helpers/flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';

/** The server's clock runs `offsetMs` ahead of the machine's, so a test can let a challenge expire or a TOTP step pass. */
let offsetMs = 0;
const serverNow = () => new Date(Date.now() + offsetMs);
const sms = recordingSms();

const server = useTestApp({
  listen: true,
  env: {
    GOTRUE_MFA_PHONE_ENROLL_ENABLED: 'true',
    GOTRUE_MFA_PHONE_VERIFY_ENABLED: 'true',
    GOTRUE_MFA_PHONE_TEMPLATE: 'Your sign-in code: {{ .Code }}',
    GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true',
    GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '100000',
  },
  overrides: { clock: { now: serverNow }, sms },
});

const password = 'pass-word-1';

async function signedUp(): Promise<{ auth: GoTrueClient; email: string }> {
  const auth = server.client();
  const email = uniqueEmail('mfa');
  const r = await auth.signUp({ email, password });
  expect(r.error).toBeNull();
  return { auth, email };
}

async function signedIn(email: string): Promise<GoTrueClient> {
  const auth = server.client();
  expect((await auth.signInWithPassword({ email, password })).error).toBeNull();
  return auth;
}

const accessToken = async (auth: GoTrueClient) => (await auth.getSession()).data.session!.access_token;
const amrMethods = (jwt: string) => (claimsOf(jwt).amr as { method: string }[]).map((e) => e.method);

/** Enrols and verifies a TOTP factor; returns its id and secret. */
async function withVerifiedTotp(auth: GoTrueClient, friendlyName = 'phone app') {
  const enrolled = await auth.mfa.enroll({ factorType: 'totp', friendlyName });
  expect(enrolled.error).toBeNull();
  const { id, totp } = enrolled.data as { id: string; totp: { secret: string } };
  const verified = await auth.mfa.challengeAndVerify({ factorId: id, code: totpCodeAt(totp.secret, serverNow()) });
  expect(verified.error).toBeNull();
  return { id, secret: totp.secret };
}

describe(`MFA through @supabase/auth-js auth.mfa (${dbKind})`, () => {
  it('enrols TOTP, verifies a challenge, and raises the same session to aal2; refresh keeps aal2', async () => {
    const { auth } = await signedUp();
    const before = claimsOf(await accessToken(auth));
    expect(before.aal).toBe('aal1');

    const enrolled = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'authenticator', issuer: 'Example' });
    expect(enrolled.error).toBeNull();
    const data = enrolled.data as { id: string; type: string; friendly_name: string; totp: { qr_code: string; secret: string; uri: string } };
    expect(data.type).toBe('totp');
    expect(data.friendly_name).toBe('authenticator');
    expect(data.totp.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(data.totp.uri).toMatch(/^otpauth:\/\/totp\/Example:/);
    expect(data.totp.uri).toContain(`secret=${data.totp.secret}`);
    expect(data.totp.qr_code).toMatch(/^data:image\/svg\+xml;utf-8,<svg/);

    // An unverified factor does not raise the next level.
    let aal = await auth.mfa.getAuthenticatorAssuranceLevel();
    expect(aal.data).toMatchObject({ currentLevel: 'aal1', nextLevel: 'aal1' });

    const challenge = await auth.mfa.challenge({ factorId: data.id });
    expect(challenge.error).toBeNull();
    expect(challenge.data).toMatchObject({ type: 'totp' });
    expect(challenge.data!.expires_at).toBeGreaterThan(serverNow().getTime() / 1000 + 290);

    const verified = await auth.mfa.verify({ factorId: data.id, challengeId: challenge.data!.id, code: totpCodeAt(data.totp.secret, serverNow()) });
    expect(verified.error).toBeNull();
    const after = claimsOf(verified.data!.access_token);
    expect(after.aal).toBe('aal2');
    expect(after.session_id).toBe(before.session_id);
    expect(amrMethods(verified.data!.access_token)).toEqual(['totp', 'password']);
    expect(verified.data!.user.factors).toMatchObject([{ id: data.id, status: 'verified', factor_type: 'totp' }]);

    aal = await auth.mfa.getAuthenticatorAssuranceLevel();
    expect(aal.data).toMatchObject({ currentLevel: 'aal2', nextLevel: 'aal2' });
    const factors = await auth.mfa.listFactors();
    expect(factors.data?.totp.map((f) => f.id)).toEqual([data.id]);

    const user = await auth.getUser();
    expect(user.data.user?.factors?.[0]).toMatchObject({ id: data.id, friendly_name: 'authenticator', status: 'verified' });

    const refreshed = await auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(claimsOf(refreshed.data.session!.access_token)).toMatchObject({ aal: 'aal2', session_id: before.session_id });
    expect(amrMethods(refreshed.data.session!.access_token)).toContain('totp');
  });

  it('a new sign-in is aal1 with nextLevel aal2; AAL2-gated operations refuse it; a replayed code is refused', async () => {
    const { auth, email } = await signedUp();
    const { id, secret } = await withVerifiedTotp(auth);
    const usedCode = totpCodeAt(secret, serverNow());

    const second = await signedIn(email);
    const aal = await second.mfa.getAuthenticatorAssuranceLevel();
    expect(aal.data).toMatchObject({ currentLevel: 'aal1', nextLevel: 'aal2' });

    const unenroll = await second.mfa.unenroll({ factorId: id });
    expect(unenroll.error).toMatchObject({ status: 422, code: 'insufficient_aal' });
    const enrolMore = await second.mfa.enroll({ factorType: 'totp', friendlyName: 'another' });
    expect(enrolMore.error).toMatchObject({ status: 403, code: 'insufficient_aal' });
    const newPassword = await second.updateUser({ password: 'another-pass-word' });
    expect(newPassword.error).toMatchObject({ status: 401, code: 'insufficient_aal' });
    const newEmail = await second.updateUser({ email: uniqueEmail('elsewhere') });
    expect(newEmail.error).toMatchObject({ code: 'insufficient_aal' });
    expect((await second.updateUser({ data: { theme: 'dark' } })).error).toBeNull();

    // The code the first session used (same 30 s step) cannot be used again.
    const replay = await second.mfa.challengeAndVerify({ factorId: id, code: usedCode });
    expect(replay.error).toMatchObject({ status: 422, code: 'mfa_verification_failed' });

    offsetMs += 30_000;
    const next = await second.mfa.challengeAndVerify({ factorId: id, code: totpCodeAt(secret, serverNow()) });
    expect(next.error).toBeNull();
    expect(claimsOf(next.data!.access_token).aal).toBe('aal2');
    expect((await second.updateUser({ password: 'another-pass-word' })).error).toBeNull();
  });

  it('answers a wrong code, an expired challenge, another factor’s challenge and someone else’s factor with GoTrue’s codes', async () => {
    const { auth } = await signedUp();
    const a = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'a' });
    const b = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'b' });
    const aId = a.data!.id;
    const secret = (a.data as { totp: { secret: string } }).totp.secret;

    const wrong = await auth.mfa.challengeAndVerify({ factorId: aId, code: totpCodeAt(secret, new Date(serverNow().getTime() - 120_000)) });
    expect(wrong.error).toMatchObject({ status: 422, code: 'mfa_verification_failed' });

    const dup = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'a' });
    expect(dup.error).toMatchObject({ status: 422, code: 'mfa_factor_name_conflict' });

    const ofB = await auth.mfa.challenge({ factorId: b.data!.id });
    const crossed = await auth.mfa.verify({ factorId: aId, challengeId: ofB.data!.id, code: totpCodeAt(secret, serverNow()) });
    expect(crossed.error).toMatchObject({ status: 422, code: 'mfa_factor_not_found' });

    const old = await auth.mfa.challenge({ factorId: aId });
    offsetMs += 301_000;
    const expired = await auth.mfa.verify({ factorId: aId, challengeId: old.data!.id, code: totpCodeAt(secret, serverNow()) });
    expect(expired.error).toMatchObject({ status: 422, code: 'mfa_challenge_expired' });
    // The expired challenge is gone.
    const again = await auth.mfa.verify({ factorId: aId, challengeId: old.data!.id, code: totpCodeAt(secret, serverNow()) });
    expect(again.error).toMatchObject({ status: 422, code: 'mfa_factor_not_found' });

    const { auth: other } = await signedUp();
    const theirs = await other.mfa.challenge({ factorId: aId });
    expect(theirs.error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });
    expect((await other.mfa.unenroll({ factorId: aId })).error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });

    // A verified challenge cannot be verified twice.
    const fresh = await auth.mfa.challenge({ factorId: aId });
    const code = totpCodeAt(secret, serverNow());
    expect((await auth.mfa.verify({ factorId: aId, challengeId: fresh.data!.id, code })).error).toBeNull();
    const twice = await auth.mfa.verify({ factorId: aId, challengeId: fresh.data!.id, code });
    expect(twice.error).toMatchObject({ status: 422, code: 'mfa_ip_address_mismatch' });
  });

  it('unenrolling the last verified factor drops the session to aal1 at its next refresh, and audits each step', async () => {
    const { auth } = await signedUp();
    const { id } = await withVerifiedTotp(auth);
    const userId = claimsOf(await accessToken(auth)).sub as string;
    const out = await auth.mfa.unenroll({ factorId: id });
    expect(out.error).toBeNull();
    expect(out.data).toEqual({ id });
    const refreshed = await auth.refreshSession();
    expect(claimsOf(refreshed.data.session!.access_token).aal).toBe('aal1');
    expect(amrMethods(refreshed.data.session!.access_token)).not.toContain('totp');
    expect((await auth.mfa.listFactors()).data?.all).toEqual([]);

    const rows = await server.db.db.selectFrom('audit_log_entries').select('payload').execute();
    const actions = rows
      .map((r) => r.payload as { action: string; actor_id: string; traits?: { factor_id?: string } })
      .filter((p) => p.actor_id === userId && p.traits?.factor_id === id)
      .map((p) => p.action);
    expect(actions).toEqual(expect.arrayContaining(['factor_in_progress', 'challenge_created', 'verification_attempted', 'factor_unenrolled']));
  });

  it('an admin deleting the user’s last verified factor drops their sessions to aal1', async () => {
    const { auth } = await signedUp();
    const { id } = await withVerifiedTotp(auth);
    const userId = claimsOf(await accessToken(auth)).sub as string;
    const r = await request(server.app).delete(`/admin/users/${userId}/factors/${id}`).set(adminHeaders(server.deps));
    expect(r.status).toBe(200);
    const refreshed = await auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(claimsOf(refreshed.data.session!.access_token).aal).toBe('aal1');
  });

  it('phone factors: the code goes out by SMS through the configured vendor, verifies to aal2 with mfa/phone', async () => {
    const { auth } = await signedUp();
    const phone = uniquePhone();
    const enrolled = await auth.mfa.enroll({ factorType: 'phone', phone: `+${phone}`, friendlyName: 'my phone' });
    expect(enrolled.error).toBeNull();
    expect(enrolled.data).toMatchObject({ type: 'phone', phone: `+${phone}` });
    const factorId = enrolled.data!.id;

    const challenge = await auth.mfa.challenge({ factorId, channel: 'sms' });
    expect(challenge.error).toBeNull();
    const texted = sms.lastTo(phone)!;
    expect(texted.body).toMatch(/^Your sign-in code: \d{6}$/);

    // One challenge per GOTRUE_MFA_PHONE_MAX_FREQUENCY.
    const tooSoon = await auth.mfa.challenge({ factorId });
    expect(tooSoon.error).toMatchObject({ status: 429, code: 'over_sms_send_rate_limit' });

    const wrong = await auth.mfa.verify({ factorId, challengeId: challenge.data!.id, code: texted.otp === '000000' ? '111111' : '000000' });
    expect(wrong.error).toMatchObject({ status: 422, code: 'mfa_verification_failed' });

    const verified = await auth.mfa.verify({ factorId, challengeId: challenge.data!.id, code: texted.otp });
    expect(verified.error).toBeNull();
    expect(claimsOf(verified.data!.access_token).aal).toBe('aal2');
    expect(amrMethods(verified.data!.access_token)[0]).toBe('mfa/phone');
    expect((await auth.mfa.listFactors()).data?.phone.map((f) => f.id)).toEqual([factorId]);

    const again = await auth.mfa.enroll({ factorType: 'phone', phone: `+${phone}`, friendlyName: 'same phone' });
    expect(again.error).toMatchObject({ status: 422, code: 'mfa_verified_factor_exists' });
  });

  it('anonymous users cannot enrol', async () => {
    const auth = server.client();
    expect((await auth.signInAnonymously()).error).toBeNull();
    const r = await auth.mfa.enroll({ factorType: 'totp' });
    expect(r.error).toMatchObject({ status: 403, code: 'no_authorization' });
  });
});
