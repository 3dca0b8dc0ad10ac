import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';
import { adminHeaders } from '../helpers/admin';
import { oauthEnv, rsaKey } from '../helpers/oauth-server';
import { uniqueEmail } from '../helpers/test-server';

/**
 * Resource servers (issue 15, item 4), their invalid inputs on every new route and where resources meet the
 * protocol: a clear 400 validation_failed / 404 oauth_resource_not_found, never a 5xx; invalid_scope and
 * invalid_target on the authorization redirect; the token's alg is the resource's.
 */

/** A second asymmetric key (ES256, verify-only but with its private part) and an HS256 `oct` key in the set. */
const ecKey = (() => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig', key_ops: ['verify'] };
})();
const octKey = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: randomUUID(), alg: 'HS256', key_ops: ['verify'] };

const t = useTestApp({ env: oauthEnv({ GOTRUE_JWT_KEYS: JSON.stringify([rsaKey, ecKey, octKey]) }) });
const REDIRECT = 'https://rp.example.com/cb';
const API = 'https://inputs-api.example.com';
let pub: { client_id: string };
let machine: { client_id: string; client_secret: string };
let resourceId: string;

const create = (body: unknown) => request(t.app).post('/admin/oauth/resources').set(adminHeaders(t.deps)).send(body as object);

beforeAll(async () => {
  pub = (await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ redirect_uris: [REDIRECT], client_type: 'public' })).body as typeof pub;
  machine = (await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ redirect_uris: [REDIRECT], grant_types: ['client_credentials'] })).body as typeof machine;
  const r = await create({ resource: API, name: 'Inputs API', scopes: [{ name: 'notes:read', description: 'Read your notes' }, { name: 'notes:write', description: 'Change your notes' }] });
  expect(r.status).toBe(201);
  resourceId = (r.body as { id: string }).id;
});

const valid = { resource: 'https://valid.example.com/api', name: 'Valid' };

describe('POST /admin/oauth/resources', () => {
  it.each<[string, unknown]>([
    ['no body fields', {}],
    ['no resource', { name: 'x' }],
    ['a relative resource', { ...valid, resource: '/api' }],
    ['a resource with a fragment', { ...valid, resource: 'https://a.example.com/api#x' }],
    ['an empty fragment', { ...valid, resource: 'https://a.example.com/api#' }],
    ['http on a public host', { ...valid, resource: 'http://a.example.com/api' }],
    ['another scheme', { ...valid, resource: 'ftp://a.example.com/api' }],
    ['user information', { ...valid, resource: 'https://user:pw@a.example.com/api' }],
    ['a resource of 3000 characters', { ...valid, resource: `https://a.example.com/${'a'.repeat(3000)}` }],
    ['a number for resource', { ...valid, resource: 42 }],
    ['no name', { resource: valid.resource }],
    ['a blank name', { ...valid, name: '   ' }],
    ['a name of 300 characters', { ...valid, name: 'n'.repeat(300) }],
    ['scopes that are not a list', { ...valid, scopes: 'read' }],
    ['a scope that is a string', { ...valid, scopes: ['read'] }],
    ['a scope without a name', { ...valid, scopes: [{ description: 'x' }] }],
    ['a scope name with a space', { ...valid, scopes: [{ name: 'read all' }] }],
    ['a scope name with a quote', { ...valid, scopes: [{ name: 'read"' }] }],
    ['a scope name with a backslash', { ...valid, scopes: [{ name: 'read\\x' }] }],
    ['a non-ASCII scope name', { ...valid, scopes: [{ name: 'lesen-ü' }] }],
    ['an empty scope name', { ...valid, scopes: [{ name: '' }] }],
    ['an OpenID scope name', { ...valid, scopes: [{ name: 'openid' }] }],
    ['offline_access as a scope', { ...valid, scopes: [{ name: 'offline_access' }] }],
    ['a scope twice', { ...valid, scopes: [{ name: 'read' }, { name: 'read' }] }],
    ['a numeric description', { ...valid, scopes: [{ name: 'read', description: 7 }] }],
    ['a description of 2000 characters', { ...valid, scopes: [{ name: 'read', description: 'd'.repeat(2000) }] }],
    ['65 scopes', { ...valid, scopes: Array.from({ length: 65 }, (_, i) => ({ name: `s${i}` })) }],
    ['a ttl under a minute', { ...valid, access_token_ttl: 30 }],
    ['a ttl over a day', { ...valid, access_token_ttl: 86_401 }],
    ['a fractional ttl', { ...valid, access_token_ttl: 90.5 }],
    ['a ttl as a string', { ...valid, access_token_ttl: '600' }],
    ['alg none', { ...valid, signing_alg: 'none' }],
    ['an alg no key has', { ...valid, signing_alg: 'EdDSA' }],
    ['an unknown alg', { ...valid, signing_alg: 'PS256' }],
    ['a lowercase alg', { ...valid, signing_alg: 'rs256' }],
  ])('%s → 400 validation_failed', async (_n, body) => {
    const r = await create(body);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    expect(r.headers['x-sb-error-code']).toBe('validation_failed');
  });

  it('a URI already registered → 400 validation_failed, naming the conflict', async () => {
    const r = await create({ resource: API, name: 'Again' });
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    expect(r.body.message).toMatch(/already exists/);
  });

  it('without an admin token → 401; with a user token → 403', async () => {
    expect((await request(t.app).post('/admin/oauth/resources').send(valid)).status).toBe(401);
    const s = await request(t.app).post('/signup').send({ email: uniqueEmail('res-in'), password: 'pass-word-1' });
    const r = await request(t.app).post('/admin/oauth/resources').set('authorization', `Bearer ${s.body.access_token as string}`).send(valid);
    expect([r.status, r.body.error_code]).toEqual([403, 'not_admin']);
  });

  it('a body that is not a JSON object → 400 bad_json', async () => {
    const r = await create([valid]);
    expect([r.status, r.body.code]).toEqual([400, 'bad_json']);
  });

  it('loopback http, the defaults filled in, HS256 and ES256 only when chosen', async () => {
    const a = await create({ resource: 'http://localhost:8080/api', name: 'Local' });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ resource: 'http://localhost:8080/api', name: 'Local', scopes: [], access_token_ttl: null, signing_alg: 'RS256' });
    for (const [uri, alg] of [['http://127.0.0.1:9/x', 'ES256'], ['http://[::1]:9/x', 'HS256']] as const) {
      const r = await create({ resource: uri, name: alg, signing_alg: alg, access_token_ttl: 120 });
      expect([r.status, r.body.signing_alg, r.body.access_token_ttl]).toEqual([201, alg, 120]);
    }
  });
});

describe('GET|PUT|DELETE /admin/oauth/resources/{id}', () => {
  it.each<[string, string]>([
    ['an unknown UUID', randomUUID()],
    ['not a UUID', 'not-a-uuid'],
    ['a very long id', 'x'.repeat(64)],
  ])('%s → 404 oauth_resource_not_found on GET, PUT and DELETE', async (_n, id) => {
    for (const r of [
      await request(t.app).get(`/admin/oauth/resources/${id}`).set(adminHeaders(t.deps)),
      await request(t.app).put(`/admin/oauth/resources/${id}`).set(adminHeaders(t.deps)).send({ name: 'x' }),
      await request(t.app).delete(`/admin/oauth/resources/${id}`).set(adminHeaders(t.deps)),
    ]) {
      expect([r.status, r.body.code]).toEqual([404, 'oauth_resource_not_found']);
    }
  });

  it('an id longer than the path allows → 400 validation_failed', async () => {
    const r = await request(t.app).get(`/admin/oauth/resources/${'x'.repeat(65)}`).set(adminHeaders(t.deps));
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
  });

  it.each<[string, unknown]>([
    ['another URI', { resource: 'https://moved.example.com', name: 'x' }],
    ['no name', { scopes: [] }],
    ['an OpenID scope', { name: 'x', scopes: [{ name: 'email' }] }],
    ['a bad ttl', { name: 'x', access_token_ttl: 0 }],
    ['a bad alg', { name: 'x', signing_alg: 'HS512' }],
    ['scopes as an object', { name: 'x', scopes: { name: 'read' } }],
  ])('PUT with %s → 400 validation_failed, the resource unchanged', async (_n, body) => {
    const r = await request(t.app).put(`/admin/oauth/resources/${resourceId}`).set(adminHeaders(t.deps)).send(body as object);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    const now = await request(t.app).get(`/admin/oauth/resources/${resourceId}`).set(adminHeaders(t.deps));
    expect(now.body).toMatchObject({ resource: API, name: 'Inputs API' });
  });

  it('the list, then a round trip: PUT replaces, DELETE removes (then 404)', async () => {
    const made = await create({ resource: 'https://crud.example.com', name: 'CRUD', scopes: [{ name: 'a' }] });
    const list = await request(t.app).get('/admin/oauth/resources').set(adminHeaders(t.deps));
    expect(list.status).toBe(200);
    expect((list.body.resources as { id: string }[]).map((r) => r.id)).toContain(made.body.id);
    const put = await request(t.app).put(`/admin/oauth/resources/${made.body.id as string}`).set(adminHeaders(t.deps)).send({ resource: 'https://crud.example.com', name: 'Renamed', scopes: [{ name: 'b', description: 'B' }], access_token_ttl: 300 });
    expect(put.body).toMatchObject({ name: 'Renamed', scopes: [{ name: 'b', description: 'B' }], access_token_ttl: 300 });
    expect((await request(t.app).delete(`/admin/oauth/resources/${made.body.id as string}`).set(adminHeaders(t.deps))).status).toBe(204);
    expect((await request(t.app).get(`/admin/oauth/resources/${made.body.id as string}`).set(adminHeaders(t.deps))).status).toBe(404);
  });
});

describe('GET /admin/oauth/resources?page=&per_page=', () => {
  const list = (query = '') => request(t.app).get(`/admin/oauth/resources${query}`).set(adminHeaders(t.deps));
  const uris = (r: request.Response) => (r.body.resources as { resource: string }[]).map((x) => x.resource);

  it('pages the list oldest first, with X-Total-Count and Link as GET /admin/oauth/clients writes them', async () => {
    for (const n of [1, 2, 3, 4]) expect((await create({ resource: `https://page-${n}.example.com`, name: `Page ${n}` })).status).toBe(201);
    const all = await list();
    const total = Number(all.headers['x-total-count']);
    expect(total).toBeGreaterThanOrEqual(5);
    expect(uris(all)).toHaveLength(total); // 50 a page by default
    expect(all.headers['link']).toBe(`</admin/oauth/resources?page=1>; rel="last"`);

    const last = Math.ceil(total / 2);
    const second = await list('?page=2&per_page=2');
    expect([second.status, uris(second), second.headers['x-total-count']]).toEqual([200, uris(all).slice(2, 4), String(total)]);
    expect(second.headers['link']).toBe(`${total > 4 ? '</admin/oauth/resources?page=3&per_page=2>; rel="next", ' : ''}</admin/oauth/resources?page=${last}&per_page=2>; rel="last"`);
    const end = await list(`?page=${last}&per_page=2`);
    expect(uris(end)).toEqual(uris(all).slice((last - 1) * 2));
    expect(end.headers['link']).toBe(`</admin/oauth/resources?page=${last}&per_page=2>; rel="last"`);
    expect(uris(await list(`?page=${last + 1}&per_page=2`))).toEqual([]);

    // The clients' list answers the same query with the same header shapes (one pagination, not two).
    const clients = await request(t.app).get('/admin/oauth/clients?page=2&per_page=2').set(adminHeaders(t.deps));
    expect(clients.headers['link']).toMatch(/^(<\/admin\/oauth\/clients\?page=3&per_page=2>; rel="next", )?<\/admin\/oauth\/clients\?page=\d+&per_page=2>; rel="last"$/);
  });

  it.each(['page=0', 'per_page=0', 'page=-1', 'per_page=abc', 'page=1.5', `page=${'9'.repeat(11)}`, 'per_page=2147483648'])('refuses ?%s with 400 validation_failed, as the clients\' list does', async (query) => {
    const r = await list(`?${query}`);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    const c = await request(t.app).get(`/admin/oauth/clients?${query}`).set(adminHeaders(t.deps));
    expect(r.body.message).toMatch(/^Bad Pagination Parameters/);
    expect([c.status, c.body.code, c.body.message]).toEqual([400, 'validation_failed', r.body.message]);
  });
});

describe('GET /oauth/authorize with resources', () => {
  const challenge = 'c'.repeat(43);
  const q = (extra: string) => `client_id=${pub.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${challenge}&code_challenge_method=S256&state=st&${extra}`;
  it.each<[string, string, string]>([
    ['a resource scope without resource', 'scope=openid%20notes%3Aread', 'invalid_scope'],
    ['a scope the resource does not have', `scope=openid%20notes%3Adelete&resource=${encodeURIComponent(API)}`, 'invalid_scope'],
    ['an unknown scope with a resource', `scope=admin&resource=${encodeURIComponent(API)}`, 'invalid_scope'],
    ['another resource\'s scope on a configured one', `scope=notes%3Aread&resource=${encodeURIComponent('https://api.example.com')}`, 'invalid_scope'],
    ['an unknown resource with its scope', `scope=notes%3Aread&resource=${encodeURIComponent('https://nope.example.com')}`, 'invalid_target'],
    ['a resource with a fragment', `scope=openid&resource=${encodeURIComponent(`${API}#x`)}`, 'invalid_target'],
  ])('%s → 302 back with error=%s, state and iss', async (_n, extra, error) => {
    const r = await request(t.app).get(`/oauth/authorize?${q(extra)}`);
    expect(r.status).toBe(302);
    const back = new URL(r.headers.location as string);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error, state: 'st', iss: 'http://localhost:9999' });
  });

  it('the resource and its scopes → the consent page; the pending request records the resource', async () => {
    const r = await request(t.app).get(`/oauth/authorize?${q(`scope=openid%20notes%3Aread&resource=${encodeURIComponent(API)}`)}`);
    expect(r.status).toBe(302);
    const id = new URL(r.headers.location as string).searchParams.get('authorization_id')!;
    const row = await t.db.db.selectFrom('oauth_authorizations').select(['resource', 'scope']).where('authorization_id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ resource: API, scope: 'openid notes:read' });
  });
});

describe('client_credentials with a resource', () => {
  const cc = (body: string) =>
    request(t.app).post('/oauth/token').type('form').set('authorization', `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}`).send(`grant_type=client_credentials&${body}`);

  it.each<[string, string, string]>([
    ['a resource scope without resource', 'scope=notes%3Aread', 'invalid_scope'],
    ['a scope the resource lacks', `scope=notes%3Adelete&resource=${encodeURIComponent(API)}`, 'invalid_scope'],
    ['an OpenID scope', `scope=openid&resource=${encodeURIComponent(API)}`, 'invalid_scope'],
    ['an unknown resource', 'resource=https%3A%2F%2Fnope.example.com', 'invalid_target'],
  ])('%s → 400 %s', async (_n, body, error) => {
    const r = await cc(body);
    expect([r.status, r.body.error]).toEqual([400, error]);
  });

  it('the resource\'s scopes → an at+jwt for the resource, signed with its alg and lifetime', async () => {
    const r = await cc(`scope=notes%3Aread&resource=${encodeURIComponent(API)}`);
    expect(r.status).toBe(200);
    expect(decodeProtectedHeader(r.body.access_token as string)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: rsaKey.kid });
    expect(decodeJwt(r.body.access_token as string)).toMatchObject({ aud: API, scope: 'notes:read', client_id: machine.client_id, sub: machine.client_id });
    for (const [alg, kid] of [['ES256', ecKey.kid], ['HS256', octKey.kid]] as const) {
      const uri = `https://${alg.toLowerCase()}.example.com`;
      expect((await create({ resource: uri, name: alg, signing_alg: alg, access_token_ttl: 120, scopes: [{ name: 'x' }] })).status).toBe(201);
      const tok = await cc(`scope=x&resource=${encodeURIComponent(uri)}`);
      expect(decodeProtectedHeader(tok.body.access_token as string)).toMatchObject({ alg, kid, typ: 'at+jwt' });
      const claims = decodeJwt(tok.body.access_token as string);
      expect([claims.exp! - claims.iat!, tok.body.expires_in]).toEqual([120, 120]);
      // Still this server's token: introspection verifies it.
      const intro = await request(t.app).post('/oauth/introspect').type('form').set('authorization', `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}`).send(`token=${tok.body.access_token as string}`);
      expect(intro.body).toMatchObject({ active: true, aud: uri, scope: 'x', client_id: machine.client_id });
    }
  });

  it('a resource token at a first-party endpoint → 403 oauth_resource_token_not_allowed', async () => {
    const tok = (await cc(`scope=notes%3Aread&resource=${encodeURIComponent(API)}`)).body.access_token as string;
    for (const [method, path] of [['get', '/user'], ['put', '/user'], ['post', '/logout'], ['post', '/factors'], ['get', '/user/oauth/grants']] as const) {
      const r = await request(t.app)[method](path).set('authorization', `Bearer ${tok}`).send({});
      expect([path, r.status, r.body.error_code]).toEqual([path, 403, 'oauth_resource_token_not_allowed']);
    }
    const admin = await request(t.app).get('/admin/users').set('authorization', `Bearer ${tok}`);
    expect(admin.status).toBe(403);
  });
});
