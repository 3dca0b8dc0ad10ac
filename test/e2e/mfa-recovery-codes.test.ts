import { GoTrueClient } from '@supabase/auth-js';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { totpCodeAt } from '../../src/crypto/totp';
import { adminHeaders } from '../helpers/admin';
import { claimsOf } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind, onPostgres } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

/** The server's clock runs `offsetMs` ahead of the machine's, so a test can outlast a lockout. */
let offsetMs = 0;
const serverNow = () => new Date(Date.now() + offsetMs);

const server = useTestApp({
  listen: true,
  env: {
    GOTRUE_MFA_RECOVERY_CODES_ENROLL_ENABLED: 'true',
    GOTRUE_MFA_RECOVERY_CODES_VERIFY_ENABLED: 'true',
    GOTRUE_MFA_RECOVERY_CODES_MAX_ATTEMPTS: '3',
    GOTRUE_MFA_RECOVERY_CODES_LOCKOUT_DURATION: '10m',
    GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true',
    GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '100000',
  },
  overrides: { clock: { now: serverNow } },
});

const password = 'pass-word-1';

/** An auth-js client as an app opts in to recovery codes: `auth: { experimental: { recoveryCodes: true } }`. */
function client(): GoTrueClient {
  return new GoTrueClient({
    url: `${server.url}/auth/v1`,
    headers: { apikey: 'anon-key-is-not-checked-by-gotrue' },
    autoRefreshToken: false,
    persistSession: false,
    detectSessionInUrl: false,
    experimental: { recoveryCodes: true },
  });
}

async function signedIn(email: string, signUp = false): Promise<GoTrueClient> {
  const auth = client();
  const r = signUp ? await auth.signUp({ email, password }) : await auth.signInWithPassword({ email, password });
  expect(r.error).toBeNull();
  return auth;
}

const accessToken = async (auth: GoTrueClient) => (await auth.getSession()).data.session!.access_token;
const amrMethods = (jwt: string) => (claimsOf(jwt).amr as { method: string }[]).map((e) => e.method);

/** A user with a verified TOTP factor, signed in at aal2. */
async function aal2User() {
  const email = uniqueEmail('rc');
  const auth = await signedIn(email, true);
  const enrolled = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'app' });
  expect(enrolled.error).toBeNull();
  const { id, totp } = enrolled.data as { id: string; totp: { secret: string } };
  expect((await auth.mfa.challengeAndVerify({ factorId: id, code: totpCodeAt(totp.secret, serverNow()) })).error).toBeNull();
  return { auth, email, totpId: id };
}

/** A user at aal2 who generated recovery codes. */
async function withCodes() {
  const u = await aal2User();
  const generated = await u.auth.mfa.recoveryCodes.generate();
  expect(generated.error).toBeNull();
  return { ...u, generated: generated.data! };
}

/** The audit actions a user's own requests wrote. */
async function auditActions(email: string): Promise<string[]> {
  const rows = await server.db.db.selectFrom('audit_log_entries').select('payload').execute();
  return rows.map((r) => r.payload as { actor_username: string; action: string }).filter((p) => p.actor_username === email).map((p) => p.action);
}

const as = (token: string) => ({ Authorization: `Bearer ${token}`, ...API_VERSION });

describe(`MFA recovery codes through auth-js mfa.recoveryCodes (${dbKind})`, () => {
  it('generate → sign in again at aal1 → recover with a code: aal2 in place, amr mfa/recovery_code; a code works once', async () => {
    const { auth, email, generated } = await withCodes();
    expect(generated).toMatchObject({ type: 'recovery_code', friendly_name: 'Recovery codes', total: 10 });
    expect(generated.codes).toHaveLength(10);
    expect(new Set(generated.codes).size).toBe(10);
    for (const code of generated.codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);

    // Stored hashed: no code appears anywhere in its table.
    const stored = await server.db.db.selectFrom('mfa_recovery_codes').select('code_hash').where('factor_id', '=', generated.id).execute();
    expect(stored).toHaveLength(10);
    for (const { code_hash } of stored) expect(generated.codes).not.toContain(code_hash);

    const factors = await auth.mfa.listFactors();
    expect(factors.data?.recovery_code.map((f) => f.id)).toEqual([generated.id]);

    const lost = await signedIn(email);
    const before = claimsOf(await accessToken(lost));
    expect(before.aal).toBe('aal1');
    expect((await lost.mfa.getAuthenticatorAssuranceLevel()).data).toMatchObject({ currentLevel: 'aal1', nextLevel: 'aal2' });
    expect((await lost.mfa.recoveryCodes.getStatus()).data).toEqual({ id: generated.id, type: 'recovery_code', total: 10, remaining: 10 });

    // Typed as a user would: upper case, grouped with dashes and a space.
    const typed = ` ${generated.codes[0]!.toUpperCase().match(/.{4}/g)!.join('-')} `;
    const events: string[] = [];
    lost.onAuthStateChange((e) => void events.push(e));
    const recovered = await lost.mfa.recoveryCodes.verify({ code: typed });
    expect(recovered.error).toBeNull();
    const after = claimsOf(recovered.data!.access_token);
    expect(after).toMatchObject({ aal: 'aal2', session_id: before.session_id });
    expect(amrMethods(recovered.data!.access_token)).toEqual(['mfa/recovery_code', 'password']);
    expect(events).toContain('MFA_CHALLENGE_VERIFIED');
    expect((await lost.mfa.getAuthenticatorAssuranceLevel()).data).toMatchObject({ currentLevel: 'aal2' });
    const refreshed = await lost.refreshSession();
    expect(claimsOf(refreshed.data.session!.access_token)).toMatchObject({ aal: 'aal2', session_id: before.session_id });

    const again = await signedIn(email);
    const reused = await again.mfa.recoveryCodes.verify({ code: generated.codes[0]! });
    expect(reused.error).toMatchObject({ status: 422, code: 'mfa_verification_failed' });
    expect(claimsOf(await accessToken(again)).aal).toBe('aal1');
    expect((await again.mfa.recoveryCodes.getStatus()).data).toMatchObject({ total: 10, remaining: 9 });

    const audit = await server.db.db.selectFrom('audit_log_entries').select('payload').execute();
    const mine = audit.map((r) => r.payload as { actor_username: string; action: string; traits?: Record<string, unknown> }).filter((p) => p.actor_username === email);
    expect(mine.filter((p) => p.action === 'generate_recovery_codes')).toHaveLength(1);
    expect(mine.some((p) => p.action === 'verification_attempted' && p.traits?.['factor_type'] === 'recovery_code')).toBe(true);
  });

  it('regenerate keeps id and name and retires every old code; delete removes the set; both need aal2', async () => {
    const u = await aal2User();
    const generated = (await u.auth.mfa.recoveryCodes.generate({ friendlyName: 'Backup codes' })).data!;
    expect(generated.friendly_name).toBe('Backup codes');
    const exists = await u.auth.mfa.recoveryCodes.generate();
    expect(exists.error).toMatchObject({ status: 422, code: 'mfa_verified_factor_exists' });

    const aal1 = await signedIn(u.email);
    expect((await aal1.mfa.recoveryCodes.regenerate()).error).toMatchObject({ status: 403, code: 'insufficient_aal' });
    expect((await aal1.mfa.recoveryCodes.unenroll()).error).toMatchObject({ status: 403, code: 'insufficient_aal' });

    const regenerated = await u.auth.mfa.recoveryCodes.regenerate();
    expect(regenerated.error).toBeNull();
    expect(regenerated.data).toMatchObject({ id: generated.id, type: 'recovery_code', friendly_name: 'Backup codes', total: 10 });
    expect(regenerated.data!.codes.some((c) => generated.codes.includes(c))).toBe(false);

    const lost = await signedIn(u.email);
    expect((await lost.mfa.recoveryCodes.verify({ code: generated.codes[1]! })).error).toMatchObject({ code: 'mfa_verification_failed' });
    expect((await lost.mfa.recoveryCodes.verify({ code: regenerated.data!.codes[1]! })).error).toBeNull();
    expect(claimsOf(await accessToken(lost)).aal).toBe('aal2');

    const removed = await u.auth.mfa.recoveryCodes.unenroll();
    expect(removed.error).toBeNull();
    expect(removed.data).toEqual({ id: generated.id });
    expect((await auditActions(u.email)).filter((a) => a === 'generate_recovery_codes' || a === 'recovery_codes_deleted').sort()).toEqual([
      'generate_recovery_codes',
      'generate_recovery_codes',
      'recovery_codes_deleted',
    ]);
    expect((await u.auth.mfa.recoveryCodes.getStatus()).error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });
    expect((await u.auth.mfa.recoveryCodes.regenerate()).error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });
    expect((await u.auth.mfa.recoveryCodes.unenroll()).error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });
    // The session the deleted codes raised is back at aal1; the TOTP-raised one keeps aal2.
    expect(claimsOf((await lost.refreshSession()).data.session!.access_token).aal).toBe('aal1');
    expect(claimsOf((await u.auth.refreshSession()).data.session!.access_token).aal).toBe('aal2');
  });

  it('recovery codes are never the only factor: not generated without another one, and gone with the last one', async () => {
    const email = uniqueEmail('rc-sole');
    const lone = await signedIn(email, true);
    expect((await lone.mfa.recoveryCodes.generate()).error).toMatchObject({ status: 422, code: 'mfa_recovery_codes_sole_factor' });
    expect((await lone.mfa.recoveryCodes.getStatus()).error).toMatchObject({ status: 404, code: 'mfa_factor_not_found' });

    // A verified factor but an aal1 session: insufficient_aal.
    const u = await aal2User();
    const aal1 = await signedIn(u.email);
    expect((await aal1.mfa.recoveryCodes.generate()).error).toMatchObject({ status: 403, code: 'insufficient_aal' });

    const { generated } = { generated: (await u.auth.mfa.recoveryCodes.generate()).data! };
    expect((await u.auth.mfa.unenroll({ factorId: u.totpId })).error).toBeNull();
    const user = await u.auth.getUser();
    expect(user.data.user?.factors ?? []).toEqual([]);
    expect((await u.auth.mfa.recoveryCodes.getStatus()).error).toMatchObject({ code: 'mfa_factor_not_found' });
    expect(await server.db.db.selectFrom('mfa_recovery_codes').select('id').where('factor_id', '=', generated.id).execute()).toEqual([]);
    expect(await auditActions(u.email)).toEqual(expect.arrayContaining(['factor_unenrolled', 'recovery_codes_deleted']));
  });

  it('an admin deleting the last verified factor drops the user to aal1 and takes the recovery codes with it', async () => {
    const { auth, totpId, generated } = await withCodes();
    const userId = claimsOf(await accessToken(auth)).sub as string;
    const del = await request(server.app).delete(`/admin/users/${userId}/factors/${totpId}`).set(adminHeaders(server.deps));
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    const listed = await request(server.app).get(`/admin/users/${userId}/factors`).set(adminHeaders(server.deps));
    expect(listed.body).toEqual([]);
    expect((await auth.mfa.recoveryCodes.getStatus()).error).toMatchObject({ code: 'mfa_factor_not_found' });
    const audit = await server.db.db.selectFrom('audit_log_entries').select('payload').execute();
    const traits = audit.map((r) => r.payload as { action: string; traits?: Record<string, unknown> }).filter((p) => p.traits?.['user_id'] === userId);
    expect(traits.map((p) => [p.action, p.traits?.['factor_id']])).toEqual(expect.arrayContaining([['factor_deleted', totpId], ['recovery_codes_deleted', generated.id]]));
    const refreshed = await auth.refreshSession();
    expect(claimsOf(refreshed.data.session!.access_token).aal).toBe('aal1');
  });

  it('locks verification after too many wrong codes (429 mfa_recovery_codes_locked), even for a right code, until the lockout passes; regenerate clears it', async () => {
    const { email, generated, auth } = await withCodes();
    const lost = await signedIn(email);
    for (const wrong of ['0000000000000000', 'not-a-code', 'zzzz-zzzz-zzzz-zzzz']) {
      expect((await lost.mfa.recoveryCodes.verify({ code: wrong })).error).toMatchObject({ status: 422, code: 'mfa_verification_failed' });
    }
    expect((await lost.mfa.recoveryCodes.verify({ code: generated.codes[0]! })).error).toMatchObject({ status: 429, code: 'mfa_recovery_codes_locked' });
    expect((await lost.mfa.recoveryCodes.getStatus()).data).toMatchObject({ remaining: 10 });

    offsetMs += 11 * 60_000;
    try {
      const ok = await lost.mfa.recoveryCodes.verify({ code: generated.codes[0]! });
      expect(ok.error).toBeNull();
    } finally {
      offsetMs -= 11 * 60_000;
    }

    // Locked again, then regenerate (from the aal2 session) lifts the lock at once.
    const third = await signedIn(email);
    for (let i = 0; i < 3; i++) await third.mfa.recoveryCodes.verify({ code: `wrong${i}` });
    expect((await third.mfa.recoveryCodes.verify({ code: generated.codes[1]! })).error).toMatchObject({ code: 'mfa_recovery_codes_locked' });
    const fresh = (await auth.mfa.recoveryCodes.regenerate()).data!;
    expect((await third.mfa.recoveryCodes.verify({ code: fresh.codes[0]! })).error).toBeNull();
  });

  it('anonymous users and clients without a session are refused', async () => {
    const anon = client();
    expect((await anon.signInAnonymously()).error).toBeNull();
    expect((await anon.mfa.recoveryCodes.getStatus()).error).toMatchObject({ status: 403, code: 'no_authorization' });
    expect((await anon.mfa.recoveryCodes.verify({ code: 'abcd' })).error).toMatchObject({ status: 403 });
    const r = await request(server.app).get('/factors/recovery-codes').set(API_VERSION);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('no_authorization');
  });

  // Postgres only: PGlite runs one transaction at a time, so two verifications can never race there.
  it.skipIf(!onPostgres)('two concurrent uses of one code: exactly one wins (Postgres only)', async () => {
    const { email, generated } = await withCodes();
    for (let round = 0; round < 3; round++) {
      const lost = await signedIn(email);
      const token = await accessToken(lost);
      const code = generated.codes[round]!;
      const results = await Promise.all(
        [0, 1, 2].map(() => request(server.app).post('/factors/recovery-codes/verify').set(as(token)).send({ code })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(results.map((r) => r.body))).toEqual([200, 422, 422]);
      for (const r of results.filter((x) => x.status === 422)) expect(r.body.code).toBe('mfa_verification_failed');
    }
    const status = await request(server.app).get('/factors/recovery-codes').set(as(await accessToken(await signedIn(email))));
    expect(status.body).toMatchObject({ total: 10, remaining: 7 });
  });
});

describe('every /factors/recovery-codes route answers bad input with a 4xx JSON error_code, never a 5xx', () => {
  const long = 'x'.repeat(5000);
  type Row = [string, 'get' | 'post' | 'delete', string, unknown, number, string];
  const rows: Row[] = [
    ['generate: friendly_name a number', 'post', '/factors/recovery-codes', { friendly_name: 7 }, 400, 'validation_failed'],
    ['generate: friendly_name an object', 'post', '/factors/recovery-codes', { friendly_name: { a: 1 } }, 400, 'validation_failed'],
    ['generate: friendly_name with NUL', 'post', '/factors/recovery-codes', { friendly_name: 'a\u0000b' }, 400, 'validation_failed'],
    ['generate: friendly_name too long', 'post', '/factors/recovery-codes', { friendly_name: long }, 400, 'validation_failed'],
    ['generate: body an array', 'post', '/factors/recovery-codes', [1], 400, 'bad_json'],
    ['generate: body not JSON', 'post', '/factors/recovery-codes', '{nope', 400, 'bad_json'],
    ['generate: friendly_name taken', 'post', '/factors/recovery-codes', { friendly_name: 'app' }, 422, 'mfa_factor_name_conflict'],
    ['verify: no code', 'post', '/factors/recovery-codes/verify', {}, 400, 'validation_failed'],
    ['verify: empty code', 'post', '/factors/recovery-codes/verify', { code: '' }, 400, 'validation_failed'],
    ['verify: blank code', 'post', '/factors/recovery-codes/verify', { code: '   ' }, 400, 'validation_failed'],
    ['verify: code a number', 'post', '/factors/recovery-codes/verify', { code: 1234 }, 400, 'validation_failed'],
    ['verify: code an array', 'post', '/factors/recovery-codes/verify', { code: ['a'] }, 400, 'validation_failed'],
    ['verify: code too long', 'post', '/factors/recovery-codes/verify', { code: long }, 400, 'validation_failed'],
    ['verify: code with NUL', 'post', '/factors/recovery-codes/verify', { code: 'abcd\u0000' }, 400, 'validation_failed'],
    ['verify: only dashes', 'post', '/factors/recovery-codes/verify', { code: '----' }, 422, 'mfa_verification_failed'],
    ['verify: body a string', 'post', '/factors/recovery-codes/verify', '"code"', 400, 'bad_json'],
    ['regenerate: none yet', 'post', '/factors/recovery-codes/regenerate', {}, 404, 'mfa_factor_not_found'],
    ['status: none yet', 'get', '/factors/recovery-codes', undefined, 404, 'mfa_factor_not_found'],
    ['delete: none yet', 'delete', '/factors/recovery-codes', undefined, 404, 'mfa_factor_not_found'],
    ['challenge of a path that is not a factor id', 'post', '/factors/recovery-codes/challenge', {}, 404, 'validation_failed'],
  ];

  let token = '';
  beforeAll(async () => {
    token = await accessToken((await aal2User()).auth);
  });

  it.each(rows)('%s', async (_name, method, path, body, status, code) => {
    let req = request(server.app)[method](path).set(as(token));
    if (typeof body === 'string') req = req.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) req = req.send(body as object);
    const r = await req;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.code).toBe(code);
  });

  it('a recovery-code factor cannot be challenged or verified through /factors/{id}', async () => {
    const { auth, generated } = await withCodes();
    const token = await accessToken(auth);
    const c = await request(server.app).post(`/factors/${generated.id}/challenge`).set(as(token)).send({});
    expect(c.status).toBe(400);
    expect(c.body.code).toBe('validation_failed');
    const v = await request(server.app).post(`/factors/${generated.id}/verify`).set(as(token)).send({ challenge_id: generated.id, code: generated.codes[0] });
    expect(v.status).toBe(400);
    expect(v.body.code).toBe('validation_failed');
  });
});
