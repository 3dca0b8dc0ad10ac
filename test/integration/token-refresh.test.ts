import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Clock } from '../../src/crypto/clock';
import { claimsOf, refresh, signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, testDeps } from '../helpers/test-server';

const { db, app } = useTestApp();

async function liveTokens(sessionId: string) {
  return db.db.selectFrom('refresh_tokens').select(['token', 'parent', 'revoked']).where('session_id', '=', sessionId).where('revoked', '=', false).execute();
}

describe('POST /token?grant_type=refresh_token', () => {
  it('rotates: a new refresh token, the same session, a fresh access token', async () => {
    const { body } = await signUp(app);
    const r = await refresh(app, body.refresh_token);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).not.toBe(body.refresh_token);
    expect(claimsOf(r.body.access_token).session_id).toBe(claimsOf(body.access_token).session_id);
    expect(r.body.user.id).toBe(body.user.id);
    expect((claimsOf(r.body.access_token).amr as { method: string }[])[0]!.method).toBe('password');
    const live = await liveTokens(claimsOf(body.access_token).session_id as string);
    expect(live).toHaveLength(1);
  });

  it('records the rotation: token_revoked and token_refreshed audit rows with the caller, and the client on the session', async () => {
    const { body } = await signUp(app);
    const sessionId = claimsOf(body.access_token).session_id as string;
    const r = await request(app).post('/token?grant_type=refresh_token').set(API_VERSION).set('User-Agent', 'rotation-audit/2.0').send({ refresh_token: body.refresh_token });
    expect(r.status).toBe(200);
    const rows = await db.db.selectFrom('audit_log_entries').select(['payload', 'ip_address', 'created_at', 'instance_id']).execute();
    const mine = rows
      .map((row) => ({ ...row, payload: (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown> }))
      .filter((row) => row.payload.actor_id === body.user.id && ['token_revoked', 'token_refreshed'].includes(String(row.payload.action)));
    expect(mine.map((row) => row.payload.action).sort()).toEqual(['token_refreshed', 'token_revoked']);
    for (const row of mine) {
      expect(row.payload).toMatchObject({ actor_username: body.user.email, log_type: 'token' });
      expect(row.instance_id).toBe('00000000-0000-0000-0000-000000000000');
      expect(row.created_at).toBeInstanceOf(Date);
    }
    const session = await db.db.selectFrom('sessions').select(['user_agent', 'refreshed_at']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(session.user_agent).toBe('rotation-audit/2.0');
    expect(session.refreshed_at).not.toBeNull();
  });

  it('stores no usable token: the database holds selectors, not the tokens handed out', async () => {
    const { body } = await signUp(app);
    const rows = await db.db.selectFrom('refresh_tokens').select('token').where('user_id', '=', body.user.id).execute();
    expect(rows.map((r) => r.token)).not.toContain(body.refresh_token);
    const stolen = await refresh(app, rows[0]!.token!);
    expect(stolen.body.code).toBe('refresh_token_not_found');
  });

  it('gives the active token back to a client that replays the parent of the active token', async () => {
    const { body } = await signUp(app);
    const first = await refresh(app, body.refresh_token);
    const replay = await refresh(app, body.refresh_token);
    expect(replay.status).toBe(200);
    expect(replay.body.refresh_token).toBe(first.body.refresh_token);
  });

  it('treats reuse of an older token as theft: 400 refresh_token_already_used and the family is revoked', async () => {
    const { body } = await signUp(app);
    const t1 = (await refresh(app, body.refresh_token)).body.refresh_token;
    const t2 = (await refresh(app, t1)).body.refresh_token;
    const reuse = await refresh(app, body.refresh_token);
    expect([reuse.status, reuse.body.code]).toEqual([400, 'refresh_token_already_used']);
    expect(await liveTokens(claimsOf(body.access_token).session_id as string)).toHaveLength(0);
    expect((await refresh(app, t2)).body.code).toBe('refresh_token_already_used');
  });

  it('with rotation disabled reports reuse but leaves the live token working', async () => {
    const noRotation = createApp(testDeps(db, { GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED: 'false' }));
    const { body } = await signUp(noRotation);
    const t1 = (await refresh(noRotation, body.refresh_token)).body.refresh_token;
    const t2 = (await refresh(noRotation, t1)).body.refresh_token;
    expect((await refresh(noRotation, body.refresh_token)).body.code).toBe('refresh_token_already_used');
    expect((await refresh(noRotation, t2)).status).toBe(200);
  });

  it('within GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL swaps a revoked token again, and not after it', async () => {
    let now = Date.now();
    const clock: Clock = { now: () => new Date(now) };
    const lenient = createApp(testDeps(db, { GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL: '10' }, { clock }));
    const { body } = await signUp(lenient);
    const t1 = (await refresh(lenient, body.refresh_token)).body.refresh_token;
    await refresh(lenient, t1);
    now += 5_000;
    const within = await refresh(lenient, body.refresh_token);
    expect(within.status).toBe(200);
    // The swap made the original token the parent of the active one again; t1 is just revoked and old.
    now += 20_000;
    expect((await refresh(lenient, t1)).body.code).toBe('refresh_token_already_used');
  });

  it('refuses unknown, malformed and signed-out tokens with refresh_token_not_found', async () => {
    const { email, password } = await signUp(app);
    const s = await signIn(app, email, password);
    await request(app).post('/logout?scope=local').set('Authorization', `Bearer ${s.access_token}`).send();
    for (const t of ['nope', 'A'.repeat(44), s.refresh_token]) {
      const r = await refresh(app, t);
      expect([r.status, r.body.code]).toEqual([400, 'refresh_token_not_found']);
    }
  });

  it('refuses a banned user', async () => {
    const { body } = await signUp(app);
    await db.db.updateTable('users').set({ banned_until: new Date(Date.now() + 60_000) }).where('id', '=', body.user.id).execute();
    const r = await refresh(app, body.refresh_token);
    expect([r.status, r.body.code]).toEqual([400, 'user_banned']);
  });

  it(`survives 50 parallel refreshes of one token with one consistent family (${dbKind})`, async () => {
    const { body } = await signUp(app);
    const sessionId = claimsOf(body.access_token).session_id as string;
    const results = await Promise.all(Array.from({ length: 50 }, () => refresh(app, body.refresh_token)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const handedOut = new Set(results.map((r) => r.body.refresh_token));
    expect(handedOut.size).toBe(1);
    const live = await liveTokens(sessionId);
    expect(live).toHaveLength(1);
    const all = await db.db.selectFrom('refresh_tokens').select(['token', 'parent', 'revoked']).where('session_id', '=', sessionId).execute();
    expect(all).toHaveLength(2);
    // The one child's parent is the original token, and the token handed out is that child.
    const child = all.find((t) => t.parent !== null)!;
    expect(child.revoked).toBe(false);
    expect((await refresh(app, [...handedOut][0]!)).status).toBe(200);
  });

  it('keeps working along a chain of 20 sequential rotations', async () => {
    const { body } = await signUp(app);
    let token = body.refresh_token;
    for (let i = 0; i < 20; i++) {
      const r = await refresh(app, token);
      expect(r.status).toBe(200);
      token = r.body.refresh_token;
    }
    expect(await liveTokens(claimsOf(body.access_token).session_id as string)).toHaveLength(1);
  });

  it('sends Cache-Control: no-store on token responses', async () => {
    const { body } = await signUp(app);
    const r = await request(app).post('/token?grant_type=refresh_token').set(API_VERSION).send({ refresh_token: body.refresh_token });
    expect(r.headers['cache-control']).toBe('no-store');
  });
});
