import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/config/load-config';
import { useTestApp } from '../helpers/test-app';
import { adminHeaders } from '../helpers/admin';
import { oauthEnv } from '../helpers/oauth-server';
import { uniqueEmail } from '../helpers/test-server';

/** Invalid input on every OAuth server route: a clear 4xx in the route's error shape, never a 5xx, never a redirect to an unchecked URI. */

const t = useTestApp({ env: oauthEnv() });
const off = useTestApp({ db: t.db, env: { GOTRUE_JWT_KEYS: oauthEnv().GOTRUE_JWT_KEYS! } });
const limited = useTestApp({ db: t.db, env: oauthEnv({ GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER: '1', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '2' }) });
const REDIRECT = 'https://rp.example.com/cb';
let confidential: { client_id: string; client_secret: string };
let pub: { client_id: string };
let userToken: string;

beforeAll(async () => {
  const a = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ redirect_uris: [REDIRECT] });
  confidential = a.body as typeof confidential;
  const b = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ redirect_uris: [REDIRECT], client_type: 'public' });
  pub = b.body as typeof pub;
  const s = await request(t.app).post('/signup').send({ email: uniqueEmail('oauth-in'), password: 'pass-word-1' });
  userToken = s.body.access_token as string;
});

const basic = () => `Basic ${Buffer.from(`${confidential.client_id}:${confidential.client_secret}`).toString('base64')}`;

describe('configuration', () => {
  it('refuses to enable the OAuth server without an asymmetric signing key, naming the way out', () => {
    let err: unknown;
    try {
      loadConfig({ GOTRUE_OAUTH_SERVER_ENABLED: 'true' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join('\n')).toMatch(/GOTRUE_OAUTH_SERVER_ENABLED: .*RS256 or ES256 key .*GOTRUE_JWT_KEYS/);
  });

  it('reads both spellings of the registration rate limit', () => {
    const keys = oauthEnv().GOTRUE_JWT_KEYS!;
    expect(loadConfig({ GOTRUE_JWT_KEYS: keys, GOTRUE_RATE_LIMIT_O_AUTH_DYNAMIC_CLIENT_REGISTER: '7' }).oauthServer.rateLimitDynamicClientRegister).toBe(7);
    expect(loadConfig({ GOTRUE_JWT_KEYS: keys, GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER: '8' }).oauthServer.rateLimitDynamicClientRegister).toBe(8);
  });
});

describe('rate limits', () => {
  it('dynamic registration: GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER per hour, then 429', async () => {
    expect((await request(limited.app).post('/oauth/clients/register').send({ redirect_uris: [REDIRECT] })).status).toBe(201);
    const r = await request(limited.app).post('/oauth/clients/register').send({ redirect_uris: [REDIRECT] });
    expect([r.status, r.headers['x-sb-error-code']]).toEqual([429, 'over_request_rate_limit']);
  });

  it('the token endpoint: the /token rate, then 429 in RFC 6749 form', async () => {
    const send = () => request(limited.app).post('/oauth/token').type('form').send('grant_type=refresh_token&refresh_token=x');
    await send();
    await send();
    const r = await send();
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ error: 'slow_down' });
  });
});

describe('with the OAuth server off', () => {
  it.each([
    ['get', '/oauth/authorize'],
    ['post', '/oauth/token'],
    ['get', '/oauth/userinfo'],
    ['post', '/oauth/clients/register'],
    ['get', '/.well-known/oauth-authorization-server'],
  ] as const)('%s %s is 404', async (method, path) => {
    const r = await request(off.app)[method](path);
    expect(r.status).toBe(404);
  });

  it('the admin client routes are 404 too', async () => {
    const r = await request(off.app).get('/admin/oauth/clients').set(adminHeaders(off.deps));
    expect(r.status).toBe(404);
  });
});

type Case = [name: string, query: string, status: number, error: string];

describe('GET /oauth/authorize', () => {
  const q = (extra: string) => `client_id=${pub.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&${extra}`;
  it.each<Case>([
    ['no client_id', 'redirect_uri=https%3A%2F%2Frp.example.com%2Fcb', 400, 'invalid_request'],
    ['no redirect_uri', 'client_id=CLIENT', 400, 'invalid_request'],
    ['a malformed client_id', 'client_id=not-a-uuid&redirect_uri=x', 400, 'invalid_request'],
    ['an unknown client', 'client_id=00000000-0000-0000-0000-000000000000&redirect_uri=https%3A%2F%2Frp.example.com%2Fcb', 400, 'invalid_request'],
    ['an unregistered redirect_uri', 'client_id=CLIENT&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb', 400, 'invalid_request'],
    ['a registered URI plus a suffix', 'client_id=CLIENT&redirect_uri=https%3A%2F%2Frp.example.com%2Fcb%2F..%2Fx', 400, 'invalid_request'],
    ['a loopback port on a non-loopback URI', 'client_id=CLIENT&redirect_uri=https%3A%2F%2Frp.example.com%3A8443%2Fcb', 400, 'invalid_request'],
    ['a repeated client_id with junk', 'client_id=a&client_id=b&redirect_uri=x', 400, 'invalid_request'],
    ['a huge state', `client_id=CLIENT&redirect_uri=${encodeURIComponent(REDIRECT)}&state=${'s'.repeat(5000)}`, 400, 'invalid_request'],
  ])('%s → %i %s, no redirect', async (_n, query, status, error) => {
    const r = await request(t.app).get(`/oauth/authorize?${query.replace('CLIENT', pub.client_id)}`);
    expect(r.status).toBe(status);
    expect(r.headers.location).toBeUndefined();
    expect(r.body).toMatchObject({ error });
  });

  const challenge = 'c'.repeat(43);
  it.each<[string, string, string]>([
    ['response_type=token', `response_type=token&code_challenge=${challenge}&code_challenge_method=S256`, 'unsupported_response_type'],
    ['an unknown scope', `scope=openid%20admin&code_challenge=${challenge}&code_challenge_method=S256`, 'invalid_scope'],
    ['a public client without PKCE', 'scope=openid', 'invalid_request'],
    ['plain PKCE', `code_challenge=${challenge}&code_challenge_method=plain`, 'invalid_request'],
    ['an unknown PKCE method', `code_challenge=${challenge}&code_challenge_method=S512`, 'invalid_request'],
    ['a short code_challenge', 'code_challenge=abc&code_challenge_method=S256', 'invalid_request'],
    ['a method without a challenge', 'code_challenge_method=S256', 'invalid_request'],
    ['an unknown resource', `resource=https%3A%2F%2Fother.example.com&code_challenge=${challenge}&code_challenge_method=S256`, 'invalid_target'],
    ['a relative resource', `resource=%2Fapi&code_challenge=${challenge}&code_challenge_method=S256`, 'invalid_target'],
    ['prompt=none', `prompt=none&code_challenge=${challenge}&code_challenge_method=S256`, 'login_required'],
    ['an unknown prompt', `prompt=maybe&code_challenge=${challenge}&code_challenge_method=S256`, 'invalid_request'],
    ['a bad max_age', `max_age=-1&code_challenge=${challenge}&code_challenge_method=S256`, 'invalid_request'],
  ])('%s → 302 back to the registered URI with error=%s, state and iss', async (_n, extra, error) => {
    const r = await request(t.app).get(`/oauth/authorize?${q(extra)}&state=st`);
    expect(r.status).toBe(302);
    const back = new URL(r.headers.location as string);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error, state: 'st', iss: 'http://localhost:9999' });
  });
});

describe('POST /oauth/token', () => {
  const form = (body: string, auth: string | null = basic()) => {
    const r = request(t.app).post('/oauth/token').type('form').send(body);
    return auth ? r.set('authorization', auth) : r;
  };
  it.each<[string, () => request.Test, number, string]>([
    ['no grant_type', () => form('code=x'), 400, 'invalid_request'],
    ['an unsupported grant_type', () => form('grant_type=password&username=a&password=b'), 400, 'unsupported_grant_type'],
    ['a repeated grant_type', () => form('grant_type=authorization_code&grant_type=refresh_token'), 400, 'invalid_request'],
    ['no client authentication', () => form('grant_type=authorization_code&code=x', null), 401, 'invalid_client'],
    ['a malformed Basic header', () => form('grant_type=authorization_code&code=x', 'Basic !!!'), 401, 'invalid_client'],
    ['Basic without a colon', () => form('grant_type=authorization_code&code=x', `Basic ${Buffer.from('nocolon').toString('base64')}`), 401, 'invalid_client'],
    ['an unknown client', () => form('grant_type=authorization_code&code=x', `Basic ${Buffer.from('00000000-0000-0000-0000-000000000000:s').toString('base64')}`), 401, 'invalid_client'],
    ['the wrong auth method (post for a basic client)', () => form(`grant_type=authorization_code&code=x&client_id=${confidential.client_id}&client_secret=${confidential.client_secret}`, null), 401, 'invalid_client'],
    ['two auth methods at once', () => form(`grant_type=authorization_code&code=x&client_secret=${confidential.client_secret}`), 401, 'invalid_client'],
    ['a public client naming itself with a secret', () => form(`grant_type=authorization_code&code=x&client_id=${pub.client_id}&client_secret=x`, null), 401, 'invalid_client'],
    ['no code', () => form('grant_type=authorization_code'), 400, 'invalid_request'],
    ['an unknown code', () => form('grant_type=authorization_code&code=nope'), 400, 'invalid_grant'],
    ['a huge code', () => form(`grant_type=authorization_code&code=${'x'.repeat(600)}`), 400, 'invalid_request'],
    ['no refresh_token', () => form('grant_type=refresh_token'), 400, 'invalid_request'],
    ['an unknown refresh_token', () => form('grant_type=refresh_token&refresh_token=abc'), 400, 'invalid_grant'],
    ['client_credentials for a client without that grant', () => form('grant_type=client_credentials'), 400, 'unauthorized_client'],
    ['a JSON array body', () => request(t.app).post('/oauth/token').set('authorization', basic()).send([1, 2]), 400, 'invalid_request'],
    ['a JSON body with a number grant_type', () => request(t.app).post('/oauth/token').set('authorization', basic()).send({ grant_type: 5 }), 400, 'invalid_request'],
    ['malformed JSON', () => request(t.app).post('/oauth/token').set('content-type', 'application/json').send('{"grant_type":'), 400, 'invalid_request'],
  ])('%s → %i %s', async (_n, send, status, error) => {
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error, error_description: expect.any(String) });
    expect(r.headers['cache-control']).toBe('no-store');
    if (status === 401) expect(r.headers['www-authenticate']).toMatch(/^Basic /);
  });
});

describe('POST /oauth/revoke and /oauth/introspect', () => {
  it.each(['/oauth/revoke', '/oauth/introspect'])('%s: no token → 400 invalid_request; no client → 401 invalid_client; junk token → 200', async (path) => {
    expect((await request(t.app).post(path).type('form').set('authorization', basic()).send('')).body).toMatchObject({ error: 'invalid_request' });
    expect((await request(t.app).post(path).type('form').send('token=x')).status).toBe(401);
    const junk = await request(t.app).post(path).type('form').set('authorization', basic()).send(`token=${'a.b.c'}`);
    expect(junk.status).toBe(200);
    if (path === '/oauth/introspect') expect(junk.body).toEqual({ active: false });
  });

  it('introspecting a user\'s own access token from another flow is active with its claims; a forged one is not', async () => {
    const r = await request(t.app).post('/oauth/introspect').type('form').set('authorization', basic()).send(`token=${userToken}`);
    expect(r.body).toMatchObject({ active: true, token_type: 'access_token' });
    const forged = `${userToken.slice(0, -4)}AAAA`;
    expect((await request(t.app).post('/oauth/introspect').type('form').set('authorization', basic()).send(`token=${forged}`)).body).toEqual({ active: false });
  });
});

describe('GET|POST /oauth/userinfo', () => {
  it.each([
    ['no token', undefined],
    ['a malformed token', 'Bearer nope'],
    ['a Basic header', 'Basic eDp5'],
  ])('%s → 401 invalid_token with a Bearer challenge', async (_n, auth) => {
    const req = request(t.app).get('/oauth/userinfo');
    const r = await (auth ? req.set('authorization', auth) : req);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'invalid_token' });
    expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('a session that is not an OAuth client\'s gets sub alone (GoTrue)', async () => {
    const r = await request(t.app).post('/oauth/userinfo').set('authorization', `Bearer ${userToken}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body as object)).toEqual(['sub']);
  });
});

describe('consent-page routes (GoTrue error shape, read by auth-js)', () => {
  it.each<[string, () => request.Test, number, string]>([
    ['GET an unknown authorization', () => request(t.app).get('/oauth/authorizations/nope').set('authorization', `Bearer ${userToken}`), 404, 'oauth_authorization_not_found'],
    ['GET without a session', () => request(t.app).get('/oauth/authorizations/nope'), 401, 'no_authorization'],
    ['GET from a foreign Origin', () => request(t.app).get('/oauth/authorizations/nope').set('authorization', `Bearer ${userToken}`).set('origin', 'https://evil.example.com'), 400, 'validation_failed'],
    ['GET from the site URL\'s Origin (allowed through)', () => request(t.app).get('/oauth/authorizations/nope').set('authorization', `Bearer ${userToken}`).set('origin', 'http://localhost:3000'), 404, 'oauth_authorization_not_found'],
    ['consent from a foreign Origin', () => request(t.app).post('/oauth/authorizations/nope/consent').set('authorization', `Bearer ${userToken}`).set('origin', 'https://evil.example.com').send({ action: 'approve' }), 400, 'validation_failed'],
    ['GET an over-long id', () => request(t.app).get(`/oauth/authorizations/${'a'.repeat(200)}`).set('authorization', `Bearer ${userToken}`), 400, 'validation_failed'],
    ['consent with no action', () => request(t.app).post('/oauth/authorizations/nope/consent').set('authorization', `Bearer ${userToken}`).send({}), 400, 'validation_failed'],
    ['consent with action=maybe', () => request(t.app).post('/oauth/authorizations/nope/consent').set('authorization', `Bearer ${userToken}`).send({ action: 'maybe' }), 400, 'validation_failed'],
    ['consent with action as a number', () => request(t.app).post('/oauth/authorizations/nope/consent').set('authorization', `Bearer ${userToken}`).send({ action: 1 }), 400, 'validation_failed'],
    ['consent on an unknown authorization', () => request(t.app).post('/oauth/authorizations/nope/consent').set('authorization', `Bearer ${userToken}`).send({ action: 'approve' }), 404, 'oauth_authorization_not_found'],
    ['DELETE a grant without client_id', () => request(t.app).delete('/user/oauth/grants').set('authorization', `Bearer ${userToken}`), 400, 'validation_failed'],
    ['DELETE a grant with a bad client_id', () => request(t.app).delete('/user/oauth/grants?client_id=x').set('authorization', `Bearer ${userToken}`), 400, 'validation_failed'],
    ['DELETE a grant never given', () => request(t.app).delete(`/user/oauth/grants?client_id=${pub.client_id}`).set('authorization', `Bearer ${userToken}`), 404, 'oauth_consent_not_found'],
  ])('%s → %i %s', async (_n, send, status, code) => {
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.headers['x-sb-error-code']).toBe(code);
  });
});

describe('client registration', () => {
  it.each<[string, Record<string, unknown>]>([
    ['no redirect_uris', {}],
    ['an empty redirect_uris', { redirect_uris: [] }],
    ['eleven redirect_uris', { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example.com/${i}`) }],
    ['a relative redirect URI', { redirect_uris: ['/cb'] }],
    ['a redirect URI with a fragment', { redirect_uris: ['https://a.example.com/cb#x'] }],
    ['plain http off loopback', { redirect_uris: ['http://a.example.com/cb'] }],
    ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }],
    ['redirect_uris as a string', { redirect_uris: 'https://a.example.com/cb' }],
    ['an unknown client_type', { redirect_uris: [REDIRECT], client_type: 'robot' }],
    ['an unknown auth method', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt' }],
    ['a public client with a secret method', { redirect_uris: [REDIRECT], client_type: 'public', token_endpoint_auth_method: 'client_secret_post' }],
    ['a confidential client with none', { redirect_uris: [REDIRECT], client_type: 'confidential', token_endpoint_auth_method: 'none' }],
    ['an unknown grant type', { redirect_uris: [REDIRECT], grant_types: ['password'] }],
    ['client_credentials for a public client', { redirect_uris: [REDIRECT], client_type: 'public', grant_types: ['client_credentials'] }],
    ['a non-URL logo_uri', { redirect_uris: [REDIRECT], logo_uri: 'not a url' }],
    ['an over-long client_name', { redirect_uris: [REDIRECT], client_name: 'n'.repeat(1025) }],
  ])('%s → 400 validation_failed (admin and dynamic)', async (_n, body) => {
    const a = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send(body);
    expect([a.status, a.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    const d = await request(t.app).post('/oauth/clients/register').send(body);
    expect([d.status, d.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
  });

  it('per-client lifetimes: out of range is 400 for the admin; dynamic registration ignores them', async () => {
    const a = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ redirect_uris: [REDIRECT], access_token_ttl: 5 });
    expect([a.status, a.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    const d = await request(t.app).post('/oauth/clients/register').send({ redirect_uris: [REDIRECT], access_token_ttl: 600 });
    expect(d.status).toBe(201);
    expect(d.body).not.toHaveProperty('access_token_ttl');
  });

  it('admin routes: an unknown or malformed client is 404; an empty update is 400; a public client has no secret to regenerate', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'nope']) {
      const r = await request(t.app).get(`/admin/oauth/clients/${id}`).set(adminHeaders(t.deps));
      expect([r.status, r.headers['x-sb-error-code']]).toEqual([404, 'oauth_client_not_found']);
    }
    expect((await request(t.app).put(`/admin/oauth/clients/${pub.client_id}`).set(adminHeaders(t.deps)).send({})).status).toBe(400);
    expect((await request(t.app).post(`/admin/oauth/clients/${pub.client_id}/regenerate_secret`).set(adminHeaders(t.deps))).status).toBe(400);
    expect((await request(t.app).get('/admin/oauth/clients').set('authorization', `Bearer ${userToken}`)).status).toBe(403);
  });

  it('a client secret is stored hashed, never as given', async () => {
    const row = await t.db.db.selectFrom('oauth_clients').select('client_secret_hash').where('id', '=', confidential.client_id).executeTakeFirstOrThrow();
    expect(row.client_secret_hash).not.toBe(confidential.client_secret);
    expect(row.client_secret_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
