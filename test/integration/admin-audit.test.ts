import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders, insertFactor } from '../helpers/admin';
import { signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';
import { apiKeyJwt } from '../helpers/tokens';

const { db, deps, app } = useTestApp();

type Entry = { id: string; payload: { action: string; log_type: string; actor_username: string; actor_name?: string; traits?: Record<string, unknown> }; created_at: string; ip_address: string };
const audit = (query = '') => request(app).get(`/admin/audit${query}`).set(adminHeaders(deps));

describe('GET /admin/audit', () => {
  it('lists entries newest first as {id, payload, created_at, ip_address}, with pagination headers', async () => {
    const { body } = await signUp(app);
    const r = await audit('?per_page=2');
    expect(r.status).toBe(200);
    const entries = r.body as Entry[];
    expect(entries).toHaveLength(2);
    expect(Object.keys(entries[0]!).sort()).toEqual(['created_at', 'id', 'ip_address', 'payload']);
    expect(entries.map((e) => e.payload.action).sort()).toEqual(['login', 'user_signedup']);
    expect(entries[0]!.payload).toMatchObject({ actor_id: body.user.id, actor_username: body.user.email, actor_via_sso: false });
    expect(entries[0]!.ip_address).toMatch(/127\.0\.0\.1|::1/);
    const total = Number(r.headers['x-total-count']);
    expect(total).toBeGreaterThanOrEqual(2);
    expect(r.headers.link).toContain(`</admin/audit?page=${Math.ceil(total / 2)}&per_page=2>; rel="last"`);
  });

  it('records every admin state change, naming the admin role as the author', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail('audited') });
    await request(app).put(`/admin/users/${u.id}`).set(adminHeaders(deps)).send({ role: 'x' });
    const f = await insertFactor(db, u.id, { name: 'a' });
    await request(app).put(`/admin/users/${u.id}/factors/${f}`).set(adminHeaders(deps)).send({ friendly_name: 'b' });
    await request(app).delete(`/admin/users/${u.id}/factors/${f}`).set(adminHeaders(deps));
    await request(app).delete(`/admin/users/${u.id}`).set(adminHeaders(deps));
    const r = await audit('?query=author:service_role&per_page=1000');
    const mine = (r.body as Entry[]).filter((e) => e.payload.traits?.['user_id'] === u.id).map((e) => `${e.payload.log_type}/${e.payload.action}`);
    expect(mine.sort()).toEqual(['factor/factor_deleted', 'factor/factor_updated', 'team/user_deleted', 'team/user_signedup', 'user/user_modified']);
  });

  it('names a supabase_admin caller as supabase_admin', async () => {
    const key = apiKeyJwt(deps, 'supabase_admin');
    const email = uniqueEmail('by-supabase-admin');
    await request(app).post('/admin/users').set('Authorization', `Bearer ${key}`).send({ email });
    const r = await audit('?query=author:supabase_admin');
    expect((r.body as Entry[]).some((e) => e.payload.traits?.['user_email'] === email)).toBe(true);
  });

  it('writes no audit row for a refused change', async () => {
    const email = uniqueEmail('dup');
    await adminCreate(app, deps, { email });
    await Promise.all([1, 2, 3].map(() => request(app).post('/admin/users').set(adminHeaders(deps)).send({ email })));
    const r = await audit('?query=action:user_signedup&per_page=1000');
    expect((r.body as Entry[]).filter((e) => e.payload.traits?.['user_email'] === email)).toHaveLength(1);
  });

  it('filters with author: (username or full name), action: and type:, as literal case-insensitive substrings', async () => {
    const email = uniqueEmail('Searchable');
    await signUp(app, email, 'pass-word-1', { full_name: 'Zora 50%_Neale' });
    await signIn(app, email, 'pass-word-1');
    const byName = (await audit(`?query=${encodeURIComponent('author:zora 50%_')}`)).body as Entry[];
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((e) => e.payload.actor_name === 'Zora 50%_Neale')).toBe(true);
    const byEmail = (await audit(`?query=author:${encodeURIComponent(email.toUpperCase())}`)).body as Entry[];
    expect(new Set(byEmail.map((e) => e.payload.action))).toEqual(new Set(['user_signedup', 'login']));
    expect(((await audit('?query=author:%25%25')).body as Entry[])).toEqual([]);
    const logins = (await audit('?query=action:login&per_page=1000')).body as Entry[];
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((e) => e.payload.action === 'login')).toBe(true);
    const tokens = (await audit('?query=type:token&per_page=1000')).body as Entry[];
    expect(tokens.every((e) => e.payload.log_type === 'token')).toBe(true);
    const everything = Number((await audit('?query=action:')).headers['x-total-count']);
    expect(everything).toBe(Number((await audit()).headers['x-total-count']));
  });

  it('pages through every entry once', async () => {
    const total = Number((await audit()).headers['x-total-count']);
    const ids: string[] = [];
    for (let page = 1; page <= Math.ceil(total / 3); page++) ids.push(...((await audit(`?page=${page}&per_page=3`)).body as Entry[]).map((e) => e.id));
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  });

  it.each(['?query=bogus:x', '?query=nocolon', '?query=__proto__:x', '?page=0', '?per_page=-5', '?page=x'])('answers %s with 400 validation_failed', async (q) => {
    const r = await audit(q);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
  });

  it('refuses non-admin callers', async () => {
    const r = await request(app).get('/admin/audit').set('Authorization', `Bearer ${apiKeyJwt(deps, 'anon')}`);
    expect([r.status, r.body.error_code]).toEqual([403, 'not_admin']);
    expect((await request(app).get('/admin/audit')).status).toBe(401);
  });
});
