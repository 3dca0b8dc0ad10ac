import { GoTrueAdminApi } from '@supabase/auth-js';
import { sql } from 'kysely';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';
import { serviceRoleJwt } from '../helpers/tokens';

/** GoTrue's cursor (keyset) mode of GET /admin/users, on with GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED. */
const t = useTestApp({ listen: true, env: { GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: 'true' } });
const { deps, app, db } = t;

let audSeq = 0;
async function audienceWith(n: number) {
  const aud = `cursor-${Date.now().toString(36)}-${audSeq++}`;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await adminCreate(app, deps, { email: uniqueEmail(`c${i}`), aud })).id);
  return { aud, ids };
}
const list = (aud: string, query: Record<string, string> = {}, path = '/admin/users') =>
  request(app).get(path).query(query).set(adminHeaders(deps)).set('X-JWT-AUD', aud);
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nextLink = (header: string | undefined) => /^<([^>]*)>; rel="next"$/.exec(header ?? '')?.[1];

/** Follows Link rel="next" from the first page; returns the ids in order and every page's body. */
async function walk(aud: string, query: Record<string, string>, path = '/admin/users') {
  const ids: string[] = [];
  const pages: { pagination: { next_cursor?: string; has_more: boolean }; users: { id: string }[] }[] = [];
  let r = await list(aud, query, path);
  for (;;) {
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.headers['x-total-count']).toBeUndefined();
    pages.push(r.body);
    ids.push(...r.body.users.map((u: { id: string }) => u.id));
    const next = nextLink(r.headers.link);
    expect(next === undefined).toBe(!r.body.pagination.has_more);
    if (!next) break;
    expect(new URL(next, 'http://x').searchParams.get('cursor')).toBe(r.body.pagination.next_cursor);
    r = await request(app).get(next).set(adminHeaders(deps)).set('X-JWT-AUD', aud);
    if (pages.length > 50) throw new Error('no end of pages');
  }
  return { ids, pages };
}

describe('GET /admin/users in cursor mode', () => {
  it('leaves the Link out when a long query would make it a header Node clients refuse; next_cursor still pages', async () => {
    const { aud } = await audienceWith(2);
    const r = await list(aud, { limit: '1', grant_type: 'a@'.repeat(2300) });
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(1);
    expect(r.body.pagination.has_more).toBe(true);
    expect(r.headers.link).toBeUndefined();
  });

  it('pages newest first by Link rel="next" and pagination.next_cursor, every user once, no count', async () => {
    const { aud, ids } = await audienceWith(5);
    const { ids: seen, pages } = await walk(aud, { limit: '2' });
    expect(seen).toEqual([...ids].reverse());
    expect(pages.map((p) => p.users.length)).toEqual([2, 2, 1]);
    expect(pages.at(-1)!.pagination).toEqual({ has_more: false });
    expect(pages[0]!.pagination).toEqual({ next_cursor: expect.stringMatching(/^[A-Za-z0-9_-]+$/), has_more: true });
  });

  it('keeps the request’s path and other keys in Link, sorted as Go encodes them, and drops page', async () => {
    const { aud } = await audienceWith(3);
    const r = await list(aud, { sort: 'created_at asc', limit: '1', filter: 'c' }, '/auth/v1/admin/users');
    const cursor = r.body.pagination.next_cursor as string;
    expect(r.headers.link).toBe(`</auth/v1/admin/users?cursor=${cursor}&filter=c&limit=1&sort=created_at+asc>; rel="next"`);
  });

  it('pages oldest first with sort=created_at asc, and applies the filter across pages', async () => {
    const { aud, ids } = await audienceWith(4);
    expect((await walk(aud, { limit: '3', sort: 'created_at asc' })).ids).toEqual(ids);
    const tagged = (await list(aud)).body.users.filter((u: { email: string }) => u.email.startsWith('c1-') || u.email.startsWith('c3-'));
    expect(tagged).toHaveLength(2);
    const { ids: filtered } = await walk(aud, { limit: '1', filter: tagged[0].email });
    expect(filtered).toEqual([tagged[0].id]);
  });

  it('neither skips nor repeats users whose created_at ties or differs only in microseconds', async () => {
    const { aud, ids } = await audienceWith(6);
    // Three users share one instant; three differ by a microsecond (a JS Date would see them as one millisecond).
    await sql`update ${sql.table(`${db.namespace}.users`)} set created_at = timestamptz '2030-01-01 00:00:00.123000+00'
      where id in (${sql.join(ids.slice(0, 3))})`.execute(db.root);
    await sql`update ${sql.table(`${db.namespace}.users`)} set created_at = timestamptz '2030-01-01 00:00:00.123000+00' + (row_number * interval '1 microsecond')
      from (select id as uid, row_number() over (order by id) as row_number from ${sql.table(`${db.namespace}.users`)} where id in (${sql.join(ids.slice(3))})) as r
      where id = r.uid`.execute(db.root);
    for (const sort of ['created_at desc', 'created_at asc']) {
      for (const limit of ['1', '2', '4']) {
        const { ids: seen } = await walk(aud, { limit, sort });
        expect([...seen].sort(), `${sort}, limit ${limit}`).toEqual([...ids].sort());
        expect(new Set(seen).size).toBe(ids.length);
      }
    }
  });

  it('writes cursors as GoTrue does: base64url of {"created_at", "id"} with microseconds', async () => {
    const { aud, ids } = await audienceWith(2);
    await sql`update ${sql.table(`${db.namespace}.users`)} set created_at = timestamptz '2031-05-06 07:08:09.123450+00' where id = ${ids[1]!}`.execute(db.root);
    const r = await list(aud, { limit: '1' });
    expect(r.body.users[0].id).toBe(ids[1]);
    expect(JSON.parse(Buffer.from(r.body.pagination.next_cursor, 'base64url').toString())).toEqual({ created_at: '2031-05-06T07:08:09.12345Z', id: ids[1] });
    // A cursor GoTrue wrote (RFC 3339 with an offset) reads the same.
    const goCursor = b64({ created_at: '2031-05-06T09:08:09.12345+02:00', id: ids[1] });
    expect((await list(aud, { cursor: goCursor })).body.users.map((u: { id: string }) => u.id)).toEqual([ids[0]]);
  });

  it('answers page/per_page requests as before: offset pages with X-Total-Count, no pagination block', async () => {
    const { aud } = await audienceWith(3);
    for (const q of [{ page: '1' }, { per_page: '2' }] as Record<string, string>[]) {
      const r = await list(aud, q);
      expect(r.headers['x-total-count']).toBe('3');
      expect(r.body.pagination).toBeUndefined();
    }
  });

  it('caps limit at 1,000 and uses 50 by default', async () => {
    const { aud } = await audienceWith(1);
    for (const limit of ['1000', '1001', '18446744073709551615', '']) {
      const r = await list(aud, { limit });
      expect([r.status, r.body.users.length, r.body.pagination.has_more]).toEqual([200, 1, false]);
    }
  });

  const uuid = '0b9b8a35-5d32-4d0f-9c7d-3b1a2a9f6f01';
  it.each([
    ['limit 0', { limit: '0' }],
    ['negative limit', { limit: '-1' }],
    ['limit not a number', { limit: 'ten' }],
    ['limit with a fraction', { limit: '1.5' }],
    ['cursor not base64url', { cursor: 'not a cursor!' }],
    ['cursor padded', { cursor: `${b64({ created_at: '2030-01-01T00:00:00Z', id: uuid })}=` }],
    ['cursor not JSON', { cursor: b64('nope') }],
    ['cursor a JSON array', { cursor: b64([1, 2]) }],
    ['cursor a JSON string', { cursor: b64('"x"') }],
    ['cursor without id', { cursor: b64({ created_at: '2030-01-01T00:00:00Z' }) }],
    ['cursor with the nil id', { cursor: b64({ created_at: '2030-01-01T00:00:00Z', id: '00000000-0000-0000-0000-000000000000' }) }],
    ['cursor with a malformed id', { cursor: b64({ created_at: '2030-01-01T00:00:00Z', id: 'x' }) }],
    ['cursor with a numeric id', { cursor: b64({ created_at: '2030-01-01T00:00:00Z', id: 7 }) }],
    ['cursor without created_at', { cursor: b64({ id: uuid }) }],
    ['cursor at Go’s zero time', { cursor: b64({ created_at: '0001-01-01T00:00:00Z', id: uuid }) }],
    ['cursor at year 0', { cursor: b64({ created_at: '0000-06-01T00:00:00Z', id: uuid }) }],
    ['cursor on 30 February', { cursor: b64({ created_at: '2030-02-30T00:00:00Z', id: uuid }) }],
    ['cursor at hour 24', { cursor: b64({ created_at: '2030-01-01T24:00:00Z', id: uuid }) }],
    ['cursor with a date only', { cursor: b64({ created_at: '2030-01-01', id: uuid }) }],
    ['cursor with a numeric created_at', { cursor: b64({ created_at: 1893456000, id: uuid }) }],
    ['cursor with a SQL string', { cursor: b64({ created_at: "2030-01-01T00:00:00Z'; drop table users; --", id: uuid }) }],
  ])('refuses %s with 400 validation_failed', async (_name, query) => {
    const r = await list('authenticated', query);
    expect([r.status, r.body.error_code ?? r.body.code], JSON.stringify(r.body)).toEqual([400, 'validation_failed']);
    expect(r.body.msg ?? r.body.message).toMatch(/^Bad Pagination Parameters: /);
  });

  it('serves auth-js’ admin.listUsers() (it sends page and per_page empty): the first cursor page', async () => {
    const email = uniqueEmail('authjs');
    await adminCreate(app, deps, { email });
    const admin = new GoTrueAdminApi({ url: t.url, headers: { Authorization: `Bearer ${serviceRoleJwt(deps)}` } });
    const { data, error } = await admin.listUsers();
    expect(error).toBeNull();
    expect(data.users.map((u) => u.email)).toContain(email);
    expect((data as unknown as { pagination: unknown }).pagination).toEqual({ has_more: false });
    const paged = await admin.listUsers({ page: 1, perPage: 10 });
    expect(paged.data).toMatchObject({ total: 1, lastPage: 1 });
  });
});

describe('GET /admin/users with cursor pagination off (GoTrue’s default)', () => {
  const off = useTestApp();
  it('ignores limit and cursor and pages by offset', async () => {
    const aud = `off-${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) await adminCreate(off.app, off.deps, { email: uniqueEmail('off'), aud });
    const r = await request(off.app).get('/admin/users').query({ limit: '1', cursor: 'garbage' }).set(adminHeaders(off.deps)).set('X-JWT-AUD', aud);
    expect([r.status, r.body.users.length, r.headers['x-total-count'], r.body.pagination]).toEqual([200, 3, '3', undefined]);
  });
});
