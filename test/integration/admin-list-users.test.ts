import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';

const { deps, app } = useTestApp();

let audSeq = 0;
/** Each test lists its own audience, so it sees only its own users. */
async function audienceWith(n: number, make: (i: number) => Record<string, unknown> = () => ({})) {
  const aud = `list-${Date.now().toString(36)}-${audSeq++}`;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await adminCreate(app, deps, { email: uniqueEmail(`u${i}`), aud, ...make(i) })).id);
  return { aud, ids };
}
const list = (aud: string, query = '', path = '/admin/users') =>
  request(app).get(`${path}${query}`).set(adminHeaders(deps)).set('X-JWT-AUD', aud);

/** A Link header parsed the way a careful client does: every rel, its full URL and page number. */
function links(header: string | undefined): Record<string, { url: string; page: number }> {
  const out: Record<string, { url: string; page: number }> = {};
  for (const m of (header ?? '').matchAll(/<([^>]*)>;\s*rel="([^"]+)"/g)) {
    out[m[2]!] = { url: m[1]!, page: Number(new URL(m[1]!, 'http://x').searchParams.get('page')) };
  }
  return out;
}

describe('GET /admin/users', () => {
  it('answers {users, aud} newest first with X-Total-Count and GoTrue’s Link header', async () => {
    const { aud, ids } = await audienceWith(5);
    const r = await list(aud, '?page=1&per_page=2');
    expect(r.status).toBe(200);
    expect(r.body.aud).toBe(aud);
    expect(r.body.users.map((u: { id: string }) => u.id)).toEqual([ids[4], ids[3]]);
    expect(r.headers['x-total-count']).toBe('5');
    expect(r.headers.link).toBe('</admin/users?page=2&per_page=2>; rel="next", </admin/users?page=3&per_page=2>; rel="last"');
    expect(r.body.users[0]).toMatchObject({ aud, identities: [expect.objectContaining({ provider: 'email' })] });
  });

  it('links under /auth/v1 when called there, and keeps the other query keys, sorted and escaped as Go does', async () => {
    const { aud } = await audienceWith(3);
    const r = await list(aud, '?sort=created_at%20asc&per_page=1&filter=u&page=2', '/auth/v1/admin/users');
    expect(r.headers.link).toBe(
      '</auth/v1/admin/users?filter=u&page=3&per_page=1&sort=created_at+asc>; rel="next", </auth/v1/admin/users?filter=u&page=3&per_page=1&sort=created_at+asc>; rel="last"',
    );
  });

  it('leaves the Link out when a long query would make it a header Node clients refuse (found by the fuzz test)', async () => {
    const { aud } = await audienceWith(3);
    const long = 'a%40'.repeat(2300); // 9 KB of query: the two links alone would pass Node's 16 KiB header limit
    const r = await list(aud, `?per_page=1&grant_type=${long}`);
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(1);
    expect(r.headers.link).toBeUndefined();
    expect(r.headers['x-total-count']).toBe('3');
    // An ordinary query still links, unknown keys kept as GoTrue keeps them.
    expect(links((await list(aud, '?per_page=1&x=y')).headers.link).next?.url).toBe('/admin/users?page=2&per_page=1&x=y');
  });

  it('uses page 1 of 50 for absent or empty page/per_page (auth-js sends both empty)', async () => {
    const { aud } = await audienceWith(2);
    for (const q of ['', '?page=&per_page=']) {
      const r = await list(aud, q);
      expect(r.body.users).toHaveLength(2);
      expect(r.headers.link).toMatch(/page=1/);
      expect(r.headers.link).not.toMatch(/rel="next"/);
    }
  });

  it('pages past page 9: multi-digit page numbers in Link, every user exactly once, then an empty page', async () => {
    const { aud, ids } = await audienceWith(23);
    const seen: string[] = [];
    let url: string | undefined = '/admin/users?page=1&per_page=2';
    let pages = 0;
    while (url) {
      const r = await request(app).get(url).set(adminHeaders(deps)).set('X-JWT-AUD', aud);
      expect(r.headers['x-total-count']).toBe('23');
      const l = links(r.headers.link);
      expect(l.last?.page).toBe(12);
      seen.push(...r.body.users.map((u: { id: string }) => u.id));
      pages++;
      url = l.next?.url;
    }
    expect(pages).toBe(12);
    expect(seen).toEqual([...ids].reverse());
    const page11 = await list(aud, '?page=11&per_page=2');
    expect(page11.headers.link).toBe('</admin/users?page=12&per_page=2>; rel="next", </admin/users?page=12&per_page=2>; rel="last"');
    const beyond = await list(aud, '?page=13&per_page=2');
    expect([beyond.body.users, beyond.headers.link]).toEqual([[], '</admin/users?page=12&per_page=2>; rel="last"']);
  });

  it('sorts by created_at asc or desc (default desc; direction case-insensitive)', async () => {
    const { aud, ids } = await audienceWith(3);
    const order = async (q: string) => (await list(aud, q)).body.users.map((u: { id: string }) => u.id);
    expect(await order('?sort=created_at%20asc')).toEqual(ids);
    expect(await order('?sort=created_at%20DESC')).toEqual([...ids].reverse());
    expect(await order('?sort=created_at')).toEqual([...ids].reverse());
  });

  it('filters on a substring of email, phone or full name, case-insensitively', async () => {
    const { aud, ids } = await audienceWith(3, (i) => [{ email: `Grace.${Date.now()}@navy.example.com` }, { phone: '15557654321', email: undefined }, { user_metadata: { full_name: 'Ada Lovelace' } }][i]!);
    const find = async (f: string) => (await list(aud, `?filter=${encodeURIComponent(f)}`)).body.users.map((u: { id: string }) => u.id);
    expect(await find('GRACE.')).toEqual([ids[0]]);
    expect(await find('765432')).toEqual([ids[1]]);
    expect(await find('+1555765')).toEqual([ids[1]]);
    expect(await find('lovelace')).toEqual([ids[2]]);
    expect(await find('nobody-has-this')).toEqual([]);
    const r = await list(aud, '?filter=lovelace');
    expect(r.headers['x-total-count']).toBe('1');
  });

  it('matches LIKE wildcards in the filter literally', async () => {
    const stamp = Date.now().toString(36);
    const { aud, ids } = await audienceWith(5, (i) => ({
      email: [`a_b.${stamp}@example.com`, `axb.${stamp}@example.com`, `100%off.${stamp}@example.com`, `100xoff.${stamp}@example.com`, `plain.${stamp}@example.com`][i],
      user_metadata: i === 4 ? { full_name: 'C:\\dir' } : {},
    }));
    const find = async (f: string) => (await list(aud, `?filter=${encodeURIComponent(f)}`)).body.users.map((u: { id: string }) => u.id);
    expect(await find('a_b')).toEqual([ids[0]]);
    expect(await find('0%o')).toEqual([ids[2]]);
    expect(await find('%')).toEqual([ids[2]]);
    expect(await find('_')).toEqual([ids[0]]);
    expect(await find('\\')).toEqual([ids[4]]);
  });

  it.each([
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['page=1.5', 'page'],
    ['page=99999999999', 'page'],
    ['per_page=0', 'per_page'],
    ['per_page=x', 'per_page'],
    ['sort=email', 'sort'],
    ['sort=created_at%20sideways', 'sort'],
    ['sort=created_at%20asc%20extra', 'sort'],
  ])('answers ?%s with 400 validation_failed', async (q, what) => {
    const r = await list('authenticated', `?${q}`);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    expect(r.body.message).toContain(what === 'sort' ? 'Sort' : what);
  });
});
