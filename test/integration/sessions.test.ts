import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Clock } from '../../src/crypto/clock';
import { adminHeaders } from '../helpers/admin';
import { claimsOf, refresh, signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, testDeps, uniqueEmail } from '../helpers/test-server';

const server = useTestApp({ listen: true });
const { db, deps } = server;

/** A clock tests move forward; everything else is real. */
function movableClock() {
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };
  return { clock, advance: (ms: number) => (offset += ms) };
}

/** An app with session-policy env and a movable clock, on this file's database. */
function policyApp(env: Record<string, string>) {
  const c = movableClock();
  return { app: createApp(testDeps(db, env, { clock: c.clock })), advance: c.advance };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}`, ...API_VERSION });
const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);

describe('session policies in the refresh grant', () => {
  it('GOTRUE_SESSIONS_TIMEBOX: a refresh after the timebox is 400 session_expired, before it works', async () => {
    const { app, advance } = policyApp({ GOTRUE_SESSIONS_TIMEBOX: '1h' });
    const { body } = await signUp(app);
    advance(30 * 60_000);
    const ok = await refresh(app, body.refresh_token);
    expect(ok.status).toBe(200);
    advance(31 * 60_000);
    const late = await refresh(app, ok.body.refresh_token);
    expect([late.status, late.body.code, late.body.message]).toEqual([400, 'session_expired', 'Invalid Refresh Token: Session Expired']);
  });

  it('GOTRUE_SESSIONS_INACTIVITY_TIMEOUT: refreshing keeps the session alive; idle past the timeout it is 400 session_expired (Inactivity)', async () => {
    const { app, advance } = policyApp({ GOTRUE_SESSIONS_INACTIVITY_TIMEOUT: '10m' });
    const { body } = await signUp(app);
    let token = body.refresh_token;
    for (let i = 0; i < 3; i++) {
      advance(9 * 60_000);
      const r = await refresh(app, token);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      token = r.body.refresh_token;
    }
    advance(11 * 60_000);
    const idle = await refresh(app, token);
    expect([idle.status, idle.body.code, idle.body.message]).toEqual([400, 'session_expired', 'Invalid Refresh Token: Session Expired (Inactivity)']);
  });

  it('GOTRUE_SESSIONS_SINGLE_PER_USER: a new sign-in ends the older session; its refresh is session_expired (Revoked by Newer Login)', async () => {
    const { app } = policyApp({ GOTRUE_SESSIONS_SINGLE_PER_USER: 'true' });
    const { email, password, body: first } = await signUp(app);
    const second = await signIn(app, email, password);
    const old = await refresh(app, first.refresh_token);
    expect([old.status, old.body.code, old.body.message]).toEqual([400, 'session_expired', 'Invalid Refresh Token: Session Expired (Revoked by Newer Login)']);
    expect((await refresh(app, second.refresh_token)).status).toBe(200);
    const listed = await request(app).get('/user/sessions').set(bearer(second.access_token));
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([claimsOf(second.access_token).session_id]);
  });

  it('GOTRUE_SESSIONS_SINGLE_PER_USER turned on later: of two existing sessions only the most recently active refreshes (GoTrue)', async () => {
    const before = policyApp({});
    const { email, password, body: older } = await signUp(before.app);
    before.advance(60_000);
    const newer = await signIn(before.app, email, password);
    const { app } = policyApp({ GOTRUE_SESSIONS_SINGLE_PER_USER: 'true' });
    const old = await refresh(app, older.refresh_token);
    expect([old.status, old.body.code, old.body.message]).toEqual([400, 'session_expired', 'Invalid Refresh Token: Session Expired (Revoked by Newer Login)']);
    expect((await refresh(app, newer.refresh_token)).status).toBe(200);
  });

  it('GOTRUE_SESSIONS_TAGS: single-per-user applies within a tag; a session of another listed tag stays', async () => {
    const { app } = policyApp({ GOTRUE_SESSIONS_SINGLE_PER_USER: 'true', GOTRUE_SESSIONS_TAGS: 'web,mobile' });
    const { email, password, body: first } = await signUp(app);
    const firstSession = claimsOf(first.access_token).session_id as string;
    await db.db.updateTable('sessions').set({ tag: 'mobile' }).where('id', '=', firstSession).execute();
    await signIn(app, email, password); // untagged: counts as "web"
    expect((await refresh(app, first.refresh_token)).status).toBe(200);
  });

  it('without policies, sessions are unlimited: two sign-ins both refresh', async () => {
    const { app, advance } = policyApp({});
    const { email, password, body: first } = await signUp(app);
    const second = await signIn(app, email, password);
    advance(400 * 24 * 3600_000);
    expect((await refresh(app, first.refresh_token)).status).toBe(200);
    expect((await refresh(app, second.refresh_token)).status).toBe(200);
  });
});

describe('sessions API', () => {
  it('a user signed in twice (auth-js) lists both sessions, revokes the other by id, and its refresh fails at once', async () => {
    const email = uniqueEmail();
    const laptop = server.client();
    const phone = server.client();
    expect((await laptop.signUp({ email, password: 'pass-word-1' })).error).toBeNull();
    const { data: signedIn, error } = await phone.signInWithPassword({ email, password: 'pass-word-1' });
    expect(error).toBeNull();
    const { data: laptopSession } = await laptop.getSession();
    const laptopToken = laptopSession.session!.access_token;
    const phoneSessionId = claimsOf(signedIn.session!.access_token).session_id as string;

    const listed = await api('/user/sessions', { headers: { Authorization: `Bearer ${laptopToken}`, 'User-Agent': 'laptop-test' } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toContain('no-store');
    const { sessions } = (await listed.json()) as { sessions: { id: string; current: boolean; aal: string; oauth_client_id: string | null; created_at: string; user_agent: string | null }[] };
    expect(sessions).toHaveLength(2);
    const current = sessions.find((s) => s.current)!;
    expect(current.id).toBe(claimsOf(laptopToken).session_id);
    expect(sessions.find((s) => !s.current)!.id).toBe(phoneSessionId);
    for (const s of sessions) {
      expect(s).toMatchObject({ aal: 'aal1', oauth_client_id: null });
      expect(Number.isNaN(Date.parse(s.created_at))).toBe(false);
    }

    const revoked = await api(`/user/sessions/${phoneSessionId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${laptopToken}` } });
    expect(revoked.status).toBe(204);
    const { error: refreshError } = await phone.refreshSession();
    expect(refreshError?.code).toBe('refresh_token_not_found');
    const phoneUser = await api('/user', { headers: { Authorization: `Bearer ${signedIn.session!.access_token}` } });
    expect([phoneUser.status, ((await phoneUser.json()) as { error_code: string }).error_code]).toEqual([403, 'session_not_found']);
    expect((await laptop.refreshSession()).error).toBeNull();
  });

  it('a refresh records the refreshing client on the session (user agent, IP), as GoTrue does', async () => {
    const { body } = await signUp(server.app);
    const r = await request(server.app).post('/token?grant_type=refresh_token').set({ ...API_VERSION, 'User-Agent': 'refresher/1.0' }).send({ refresh_token: body.refresh_token });
    expect(r.status).toBe(200);
    const listed = await request(server.app).get('/user/sessions').set(bearer(r.body.access_token));
    expect(listed.body.sessions[0]).toMatchObject({ user_agent: 'refresher/1.0', current: true });
    expect(listed.body.sessions[0].refreshed_at).toEqual(expect.any(String));
    expect(listed.body.sessions[0].ip).toEqual(expect.any(String));
  });

  it('DELETE /user/sessions?scope=others ends every session but the caller’s', async () => {
    const { email, password, body: a } = await signUp(server.app);
    const b = await signIn(server.app, email, password);
    const c = await signIn(server.app, email, password);
    const r = await request(server.app).delete('/user/sessions?scope=others').set(bearer(c.access_token));
    expect(r.status).toBe(204);
    expect((await refresh(server.app, a.refresh_token)).body.code).toBe('refresh_token_not_found');
    expect((await refresh(server.app, b.refresh_token)).body.code).toBe('refresh_token_not_found');
    const listed = await request(server.app).get('/user/sessions').set(bearer(c.access_token));
    expect(listed.body.sessions).toHaveLength(1);
  });

  it('a user cannot see or end another user’s session: 404 session_not_found, and the session lives on', async () => {
    const alice = (await signUp(server.app)).body;
    const bob = (await signUp(server.app)).body;
    const bobSession = claimsOf(bob.access_token).session_id as string;
    const r = await request(server.app).delete(`/user/sessions/${bobSession}`).set(bearer(alice.access_token));
    expect([r.status, r.body.code]).toEqual([404, 'session_not_found']);
    expect((await refresh(server.app, bob.refresh_token)).status).toBe(200);
  });

  it('admin lists a user’s sessions, ends one, then all; each ended session stops refreshing', async () => {
    const { email, password, body: a } = await signUp(server.app);
    const b = await signIn(server.app, email, password);
    const userId = a.user.id;
    const h = adminHeaders(deps);
    const listed = await request(server.app).get(`/admin/users/${userId}/sessions`).set(h);
    expect(listed.status).toBe(200);
    expect(listed.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([claimsOf(a.access_token).session_id, claimsOf(b.access_token).session_id].sort());
    expect(listed.body.sessions[0]).not.toHaveProperty('current');

    const one = await request(server.app).delete(`/admin/users/${userId}/sessions/${claimsOf(a.access_token).session_id}`).set(h);
    expect(one.status).toBe(204);
    expect((await refresh(server.app, a.refresh_token)).body.code).toBe('refresh_token_not_found');
    expect((await refresh(server.app, b.refresh_token)).status).toBe(200);

    const all = await request(server.app).delete(`/admin/users/${userId}/sessions`).set(h);
    expect(all.status).toBe(204);
    expect((await request(server.app).get(`/admin/users/${userId}/sessions`).set(h)).body.sessions).toEqual([]);
    const audit = await db.db.selectFrom('audit_log_entries').select('payload').execute();
    const actions = audit.map((r) => r.payload as { action: string; traits?: { user_id?: string } }).filter((p) => p.traits?.user_id === userId).map((p) => p.action);
    expect(actions.filter((a) => a === 'token_revoked')).toHaveLength(2);
  });

  const userCases: [string, string, string, number, string][] = [
    ['GET /user/sessions without a token', 'get', '/user/sessions', 401, 'no_authorization'],
    ['DELETE /user/sessions without scope', 'delete', '/user/sessions', 400, 'validation_failed'],
    ['DELETE /user/sessions?scope=global', 'delete', '/user/sessions?scope=global', 400, 'validation_failed'],
    ['DELETE /user/sessions?scope[]=others', 'delete', '/user/sessions?scope[]=others', 400, 'validation_failed'],
    ['DELETE /user/sessions/not-a-uuid', 'delete', '/user/sessions/not-a-uuid', 404, ''],
    ['DELETE /user/sessions/{unknown}', 'delete', '/user/sessions/00000000-0000-4000-8000-000000000000', 404, 'session_not_found'],
  ];
  it.each(userCases)('invalid input: %s', async (_name, method, path, status, code) => {
    const { body } = await signUp(server.app);
    const req = request(server.app)[method as 'get' | 'delete'](path).set(API_VERSION);
    if (!_name.includes('without a token')) req.set('Authorization', `Bearer ${body.access_token}`);
    const r = await req;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    if (code) expect(r.body.code ?? r.body.error_code).toBe(code);
  });

  const adminCases: [string, string, string, number, string][] = [
    ['GET sessions of an unknown user', 'get', '/admin/users/00000000-0000-4000-8000-000000000000/sessions', 404, 'user_not_found'],
    ['DELETE sessions of an unknown user', 'delete', '/admin/users/00000000-0000-4000-8000-000000000000/sessions', 404, 'user_not_found'],
    ['GET sessions of a malformed user id', 'get', '/admin/users/nope/sessions', 404, ''],
    ['DELETE a malformed session id', 'delete', '/admin/users/00000000-0000-4000-8000-000000000000/sessions/nope', 404, ''],
  ];
  it.each(adminCases)('invalid input (admin): %s', async (_name, method, path, status, code) => {
    const r = await request(server.app)[method as 'get' | 'delete'](path).set(adminHeaders(deps));
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    if (code) expect(r.body.code ?? r.body.error_code).toBe(code);
  });

  it('admin routes refuse a user’s token: 403 not_admin', async () => {
    const { body } = await signUp(server.app);
    const r = await request(server.app).get(`/admin/users/${body.user.id}/sessions`).set(bearer(body.access_token));
    expect([r.status, r.body.code]).toEqual([403, 'not_admin']);
  });

  it('an unknown session of a known user is 404 session_not_found for the admin', async () => {
    const { body } = await signUp(server.app);
    const r = await request(server.app).delete(`/admin/users/${body.user.id}/sessions/00000000-0000-4000-8000-000000000000`).set(adminHeaders(deps));
    expect([r.status, r.body.code]).toEqual([404, 'session_not_found']);
  });
});
