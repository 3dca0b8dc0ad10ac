import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { cleanupOnce, startHousekeeping } from '../../src/domain/housekeeping';
import { signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { onPostgres } from '../helpers/test-db';
import { testDeps } from '../helpers/test-server';

const { db, app } = useTestApp();
const H = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/** Deps with housekeeping settings on this file's database. */
const depsWith = (env: Record<string, string> = {}) => testDeps(db, { GOTRUE_DB_CLEANUP_BATCH_SIZE: '2', ...env });

async function seedSession(userId: string, at: { created: Date; refreshed?: Date | null; notAfter?: Date | null; revokedAt?: Date }) {
  const id = randomUUID();
  await db.db.insertInto('sessions').values({ id, user_id: userId, created_at: at.created, updated_at: at.created, refreshed_at: at.refreshed ?? null, not_after: at.notAfter ?? null, aal: 'aal1' }).execute();
  await db.db
    .insertInto('refresh_tokens')
    .values({ token: randomUUID(), user_id: userId, session_id: id, revoked: at.revokedAt !== undefined, created_at: at.created, updated_at: at.revokedAt ?? at.created })
    .execute();
  return id;
}

const exists = async (table: 'sessions' | 'flow_state' | 'oauth_client_states' | 'oauth_authorizations' | 'mfa_challenges' | 'mfa_factors' | 'one_time_tokens', id: string) =>
  (await db.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

describe('housekeeping (GOTRUE_DB_CLEANUP_*)', () => {
  it('deletes only what can no longer be used, in batches of GOTRUE_DB_CLEANUP_BATCH_SIZE', async () => {
    const { body } = await signUp(app);
    const userId = body.user.id;
    const liveSession = await seedSession(userId, { created: ago(30 * H), refreshed: ago(H) });
    const endedSession = await seedSession(userId, { created: ago(100 * H), notAfter: ago(25 * H) });
    const justEnded = await seedSession(userId, { created: ago(2 * H), notAfter: ago(H) });
    // A live session's old revoked token (dead) beside its recently revoked one (kept for reuse detection).
    const deadToken = await db.db.insertInto('refresh_tokens').values({ token: randomUUID(), user_id: userId, session_id: liveSession, revoked: true, created_at: ago(26 * H), updated_at: ago(25 * H) }).returning('id').executeTakeFirstOrThrow();
    const keptToken = await db.db.insertInto('refresh_tokens').values({ token: randomUUID(), user_id: userId, session_id: liveSession, revoked: true, created_at: ago(2 * H), updated_at: ago(H) }).returning('id').executeTakeFirstOrThrow();

    const flow = async (created: Date) => (await db.db.insertInto('flow_state').values({ id: randomUUID(), provider_type: 'email', authentication_method: 'magiclink', created_at: created, updated_at: created }).returning('id').executeTakeFirstOrThrow()).id;
    const deadFlows = [await flow(ago(25 * H)), await flow(ago(30 * H)), await flow(ago(40 * H)), await flow(ago(50 * H)), await flow(ago(60 * H))];
    const liveFlow = await flow(ago(H));
    const state = async (created: Date) => (await db.db.insertInto('oauth_client_states').values({ id: randomUUID(), provider_type: 'github', code_verifier: 'v', created_at: created }).returning('id').executeTakeFirstOrThrow()).id;
    const [deadState, liveState] = [await state(ago(25 * H)), await state(ago(H))];
    const factor = async (status: 'verified' | 'unverified', created: Date) =>
      (await db.db.insertInto('mfa_factors').values({ id: randomUUID(), user_id: userId, friendly_name: randomUUID(), factor_type: 'totp', status, created_at: created, updated_at: created }).returning('id').executeTakeFirstOrThrow()).id;
    const [oldUnverified, oldVerified, newUnverified] = [await factor('unverified', ago(25 * H)), await factor('verified', ago(25 * H)), await factor('unverified', ago(H))];
    const challenge = async (created: Date) => (await db.db.insertInto('mfa_challenges').values({ id: randomUUID(), factor_id: oldVerified, created_at: created, ip_address: '127.0.0.1' }).returning('id').executeTakeFirstOrThrow()).id;
    const [deadChallenge, liveChallenge] = [await challenge(ago(25 * H)), await challenge(ago(60_000))];
    const ott = async (created: Date, type: 'recovery_token' | 'reauthentication_token') =>
      (await db.db.insertInto('one_time_tokens').values({ id: randomUUID(), user_id: userId, token_type: type, token_hash: randomUUID(), relates_to: 'x@example.com', created_at: created, updated_at: created }).returning('id').executeTakeFirstOrThrow()).id;
    // GOTRUE_MAILER_OTP_EXP is 24 h by default: a token is dead 24 h after that.
    const [deadOtt, liveOtt] = [await ott(ago(49 * H), 'recovery_token'), await ott(ago(23 * H), 'reauthentication_token')];

    const client = randomUUID();
    await db.db.insertInto('oauth_clients').values({ id: client, registration_type: 'manual', redirect_uris: 'https://app.example/cb', grant_types: 'authorization_code', token_endpoint_auth_method: 'none', client_type: 'public', created_at: ago(60 * H), updated_at: ago(60 * H) }).execute();
    const authorization = async (created: Date, expires: Date) =>
      (await db.db.insertInto('oauth_authorizations').values({ id: randomUUID(), authorization_id: randomUUID(), client_id: client, redirect_uri: 'https://app.example/cb', scope: 'openid', status: 'pending', created_at: created, expires_at: expires }).returning('id').executeTakeFirstOrThrow()).id;
    const [deadAuthorization, liveAuthorization] = [await authorization(ago(26 * H), ago(25 * H)), await authorization(ago(2 * H), ago(H))];

    const report = await cleanupOnce(depsWith());
    expect(report.ran).toBe(true);
    expect(report.deleted).toMatchObject({ ended_sessions: 1, flow_states: 5, oauth_client_states: 1, expired_oauth_authorizations: 1, mfa_challenges: 1, unverified_mfa_factors: 1, expired_one_time_tokens: 1 });
    expect(report.deleted.revoked_refresh_tokens).toBe(1);
    // Five dead flow states at two a batch: three batches for that statement alone.
    expect(report.batches).toBeGreaterThanOrEqual(9);

    for (const id of deadFlows) expect(await exists('flow_state', id)).toBe(false);
    expect(await exists('sessions', endedSession)).toBe(false);
    expect(await db.db.selectFrom('refresh_tokens').select('id').where('session_id', '=', endedSession).execute()).toEqual([]);
    expect(await db.db.selectFrom('refresh_tokens').select('id').where('id', '=', deadToken.id).execute()).toEqual([]);
    for (const [table, id] of [['oauth_authorizations', deadAuthorization], ['oauth_client_states', deadState], ['mfa_factors', oldUnverified], ['mfa_challenges', deadChallenge], ['one_time_tokens', deadOtt]] as const) expect(await exists(table, id)).toBe(false);

    for (const id of [liveSession, justEnded]) expect(await exists('sessions', id)).toBe(true);
    expect(await db.db.selectFrom('refresh_tokens').select('id').where('id', '=', keptToken.id).execute()).toHaveLength(1);
    for (const [table, id] of [['oauth_authorizations', liveAuthorization], ['flow_state', liveFlow], ['oauth_client_states', liveState], ['mfa_factors', oldVerified], ['mfa_factors', newUnverified], ['mfa_challenges', liveChallenge], ['one_time_tokens', liveOtt]] as const) {
      expect(await exists(table, id), `${table} ${id}`).toBe(true);
    }
    // The signed-up user's own session is untouched.
    expect(await db.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('id', 'not in', [liveSession, justEnded]).execute()).toHaveLength(1);
  });

  it('under GOTRUE_SESSIONS_INACTIVITY_TIMEOUT and _TIMEBOX, sessions past the limit (and the retention) go', async () => {
    const { body } = await signUp(app);
    const userId = body.user.id;
    const idle = await seedSession(userId, { created: ago(40 * H), refreshed: ago(25 * H) });
    const oldButActive = await seedSession(userId, { created: ago(40 * H), refreshed: ago(H) });
    const fresh = await seedSession(userId, { created: ago(2 * H) });

    const inactivity = await cleanupOnce(depsWith({ GOTRUE_SESSIONS_INACTIVITY_TIMEOUT: '10m' }));
    expect(inactivity.deleted.inactive_sessions).toBe(1);
    expect(inactivity.deleted).not.toHaveProperty('timeboxed_sessions');
    expect([await exists('sessions', idle), await exists('sessions', oldButActive), await exists('sessions', fresh)]).toEqual([false, true, true]);

    const timebox = await cleanupOnce(depsWith({ GOTRUE_SESSIONS_TIMEBOX: '1h' }));
    // At least oldButActive (sessions of other tests in this file may be past the timebox too).
    expect(timebox.deleted.timeboxed_sessions).toBeGreaterThanOrEqual(1);
    expect([await exists('sessions', oldButActive), await exists('sessions', fresh)]).toEqual([false, true]);
  });

  it.skipIf(!onPostgres)('does nothing while another server holds the housekeeping lock (Postgres: PGlite has one connection)', async () => {
    const { body } = await signUp(app);
    const dead = await seedSession(body.user.id, { created: ago(100 * H), notAfter: ago(30 * H) });
    let resolveHeld!: () => void;
    const held = new Promise<void>((r) => (resolveHeld = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(1735357554, 1668048238)`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const blocked = await cleanupOnce(depsWith());
    resolveHeld();
    await holder;
    expect(blocked.ran).toBe(false);
    expect(await exists('sessions', dead)).toBe(true);
    expect((await cleanupOnce(depsWith())).ran).toBe(true);
    expect(await exists('sessions', dead)).toBe(false);
  });

  it('the loop runs every GOTRUE_DB_CLEANUP_INTERVAL and stops cleanly', async () => {
    const { body } = await signUp(app);
    const dead = await seedSession(body.user.id, { created: ago(100 * H), notAfter: ago(30 * H) });
    const keeper = startHousekeeping(depsWith({ GOTRUE_DB_CLEANUP_INTERVAL: '50ms' }));
    const deadline = Date.now() + 10_000;
    while ((await exists('sessions', dead)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await keeper.stop();
    expect(await exists('sessions', dead)).toBe(false);
    // Stopped: a new dead row stays.
    const later = await seedSession(body.user.id, { created: ago(100 * H), notAfter: ago(30 * H) });
    await new Promise((r) => setTimeout(r, 200));
    expect(await exists('sessions', later)).toBe(true);
  });
});
