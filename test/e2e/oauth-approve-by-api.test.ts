import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as oidc from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';
import { adminHeaders } from '../helpers/admin';
import { authorizeLocation, CONSENT_PATH, ISSUER, oauthEnv, relyingParty, signedInUser } from '../helpers/oauth-server';
import { uniqueEmail } from '../helpers/test-server';
import { forgeJwt } from '../helpers/tokens';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver';

/**
 * Approve by API (issue 15): a platform that keeps its own login hosts the consent path and answers our
 * authorization requests from its backend. openid-client is the partner app (the RP).
 */

const API_KEY = 'platform-api-key-0123456789abcdef';
const t = useTestApp({ listen: true, env: oauthEnv({ GOTRUE_OAUTH_SERVER_API_KEY: API_KEY }) });
const noKey = useTestApp({ db: t.db, env: oauthEnv() });
const limited = useTestApp({ db: t.db, env: oauthEnv({ GOTRUE_OAUTH_SERVER_API_KEY: API_KEY, GOTRUE_RATE_LIMIT_VERIFY: '3', GOTRUE_RATE_LIMIT_HEADER: 'X-Forwarded-For' }) });
let receiver: HookReceiver;
beforeAll(async () => {
  receiver = await startHookReceiver();
});
afterAll(() => receiver.close());
const hooked = useTestApp({
  db: t.db,
  env: () =>
    oauthEnv({
      GOTRUE_OAUTH_SERVER_API_KEY: API_KEY,
      GOTRUE_HOOK_BEFORE_USER_CREATED_ENABLED: 'true',
      GOTRUE_HOOK_BEFORE_USER_CREATED_URI: `${receiver.url}/before`,
      GOTRUE_HOOK_BEFORE_USER_CREATED_SECRETS: receiver.secret,
      GOTRUE_HOOK_AFTER_USER_CREATED_ENABLED: 'true',
      GOTRUE_HOOK_AFTER_USER_CREATED_URI: `${receiver.url}/after`,
      GOTRUE_HOOK_AFTER_USER_CREATED_SECRETS: receiver.secret,
    }),
});
const REDIRECT = 'https://partner.example.com/callback';

/**
 * The platform's page at GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH, as README shows it: its own session says who the
 * user is (here a header standing in for its cookie session), one call approves, the browser goes back to the app.
 */
function platformApp(gotrueUrl: string) {
  const app = express();
  app.get(CONSENT_PATH, async (req, res) => {
    const email = req.header('x-platform-user'); // the platform's own login
    if (!email) return res.status(401).send('sign in first');
    const id = encodeURIComponent(String(req.query.authorization_id));
    const r = await fetch(`${gotrueUrl}/admin/oauth/authorizations/${id}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ email, create_user: true }),
    });
    if (!r.ok) return res.status(400).send(await r.text());
    const { redirect_uri } = (await r.json()) as { redirect_uri: string };
    return res.redirect(redirect_uri);
  });
  return app;
}

let platform: Server;
let platformUrl: string;
beforeAll(async () => {
  platform = createServer(platformApp(t.url));
  await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
  platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => platform.close(() => resolve())));

async function newClient(body: Record<string, unknown> = {}) {
  const r = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ client_name: 'Partner', redirect_uris: [REDIRECT], ...body });
  expect(r.status).toBe(201);
  return r.body as { client_id: string; client_secret?: string };
}

/** The RP starts a code + PKCE flow; our /oauth/authorize sends the browser to the platform's page. */
async function start(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
  const r = await authorizeLocation(t.url, url);
  expect(r.status).toBe(302);
  const page = new URL(r.location!);
  return { verifier, state, nonce, page, authorizationId: page.searchParams.get('authorization_id')! };
}

/** The browser at the platform's page, signed in there as `email`; the Location it is sent to. */
async function atPlatform(page: URL, email: string): Promise<Response> {
  return fetch(`${platformUrl}${page.pathname}${page.search}`, { headers: { 'x-platform-user': email }, redirect: 'manual' });
}

const approveWith = (id: string, body: unknown, headers: Record<string, string> = { 'X-API-Key': API_KEY }) =>
  request(t.app).post(`/admin/oauth/authorizations/${encodeURIComponent(id)}/approve`).set(headers).send(body as object);

describe('approve by API', () => {
  it("a platform's dozen-line handler signs its user into a partner app: openid-client gets a verified ID token", async () => {
    const c = await newClient();
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const gotrue = t.client();
    const known = await signedInUser(gotrue);
    const flow = await start(config);

    const details = await request(t.app).get(`/admin/oauth/authorizations/${flow.authorizationId}`).set('X-API-Key', API_KEY);
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({ authorization_id: flow.authorizationId, redirect_uri: REDIRECT, client: { id: c.client_id, name: 'Partner' }, user: null, scope: 'openid email' });

    const back = await atPlatform(flow.page, known.email);
    expect(back.status).toBe(302);
    const redirect = new URL(back.headers.get('location')!);
    expect(redirect.searchParams.get('iss')).toBe(ISSUER);
    expect(redirect.searchParams.get('state')).toBe(flow.state);
    const tokens = await oidc.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    expect(tokens.claims()).toMatchObject({ iss: ISSUER, sub: known.user.id, aud: c.client_id, email: known.email, email_verified: true, acr: 'aal1' });
    // The approval recorded the grant, as the consent page's does.
    const grants = await request(t.app).get(`/admin/users/${known.user.id}/oauth/grants`).set(adminHeaders(t.deps));
    expect(grants.body).toMatchObject([{ client: { id: c.client_id }, scopes: ['openid', 'email'] }]);

    // Single use: the request is answered; a second approve or a deny is refused, and so is the code's reuse.
    expect((await approveWith(flow.authorizationId, { email: known.email })).body).toMatchObject({ error_code: 'validation_failed' });
    const denyAgain = await request(t.app).post(`/admin/oauth/authorizations/${flow.authorizationId}/deny`).set('X-API-Key', API_KEY);
    expect([denyAgain.status, denyAgain.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    await expect(oidc.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('create_user: an unknown email becomes a confirmed user without a password, in the approval', async () => {
    const c = await newClient({ client_type: 'public' });
    const config = await relyingParty(t.url, c.client_id, oidc.None());
    const flow = await start(config);
    const email = uniqueEmail('platform');
    const back = await atPlatform(flow.page, email);
    expect(back.status).toBe(302);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.headers.get('location')!), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    const sub = tokens.claims()!.sub;
    const user = await request(t.app).get(`/admin/users/${sub}`).set(adminHeaders(t.deps));
    expect(user.body).toMatchObject({ id: sub, email });
    expect(user.body.email_confirmed_at).toBeTruthy();
    const row = await t.db.db.selectFrom('users').select('encrypted_password').where('id', '=', sub).executeTakeFirstOrThrow();
    expect(row.encrypted_password).toBeNull();
  });

  it('an unknown email without create_user creates nothing; a refused approval leaves the request pending', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    const email = uniqueEmail('nobody');
    const r = await approveWith(flow.authorizationId, { email });
    expect([r.status, r.headers['x-sb-error-code']]).toEqual([404, 'user_not_found']);
    expect(await t.db.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()).toBeUndefined();
    const ok = await approveWith(flow.authorizationId, { email, create_user: true });
    expect(ok.status).toBe(200);
  });

  it('create_user goes through the before/after user created hooks; a refusal creates nothing and leaves the request pending', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    const email = uniqueEmail('hooked');
    const approve = () => request(hooked.app).post(`/admin/oauth/authorizations/${flow.authorizationId}/approve`).set('X-API-Key', API_KEY).send({ email, create_user: true });
    receiver.answer('/before', () => ({ status: 200, body: { error: { http_code: 403, message: 'Not on the guest list' } } }));
    expect((await approve()).status).toBe(403);
    expect(await t.db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(0);
    receiver.answer('/before', () => ({ status: 204 }));
    const ok = await approve();
    expect(ok.status).toBe(200);
    const before = receiver.callsTo('/before').at(-1)!.body.user as { id: string; email: string };
    const after = receiver.callsTo('/after').at(-1)!.body.user as { id: string };
    expect(before.email).toBe(email);
    expect(after.id).toBe(before.id);
  });

  it('two approvals at once: exactly one gets a code', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    const email = uniqueEmail('race');
    const answers = await Promise.all([approveWith(flow.authorizationId, { email, create_user: true }), approveWith(flow.authorizationId, { email, create_user: true })]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await t.db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(1);
  });

  it('deny with the service_role JWT sends access_denied back with state and iss', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    const details = await request(t.app).get(`/admin/oauth/authorizations/${flow.authorizationId}`).set(adminHeaders(t.deps));
    expect(details.status).toBe(200);
    const r = await request(t.app).post(`/admin/oauth/authorizations/${flow.authorizationId}/deny`).set(adminHeaders(t.deps));
    expect(r.status).toBe(200);
    const u = new URL(r.body.redirect_uri as string);
    expect(Object.fromEntries(u.searchParams)).toMatchObject({ error: 'access_denied', state: flow.state, iss: ISSUER });
    expect((await approveWith(flow.authorizationId, { email: uniqueEmail('late') })).status).toBe(400);
  });

  it('an expired request is not found to read, approve or deny', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    await t.db.db.updateTable('oauth_authorizations').set({ expires_at: new Date(Date.now() - 1000), created_at: new Date(Date.now() - 60_000) }).where('authorization_id', '=', flow.authorizationId).execute();
    const get = await request(t.app).get(`/admin/oauth/authorizations/${flow.authorizationId}`).set('X-API-Key', API_KEY);
    const approve = await approveWith(flow.authorizationId, { email: uniqueEmail('late'), create_user: true });
    const deny = await request(t.app).post(`/admin/oauth/authorizations/${flow.authorizationId}/deny`).set('X-API-Key', API_KEY);
    for (const r of [get, approve, deny]) expect([r.status, r.headers['x-sb-error-code']]).toEqual([404, 'oauth_authorization_not_found']);
  });

  it('a request a user opened on a consent page is approved for that user only', async () => {
    const c = await newClient();
    const flow = await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)));
    const gotrue = t.client();
    const u = await signedInUser(gotrue);
    await gotrue.setSession({ access_token: u.session.access_token, refresh_token: u.session.refresh_token });
    expect((await gotrue.oauth.getAuthorizationDetails(flow.authorizationId)).error).toBeNull();
    const details = await request(t.app).get(`/admin/oauth/authorizations/${flow.authorizationId}`).set('X-API-Key', API_KEY);
    expect(details.body.user).toEqual({ id: u.user.id, email: u.email });
    const other = await approveWith(flow.authorizationId, { email: uniqueEmail('other'), create_user: true });
    expect([other.status, other.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    expect((await approveWith(flow.authorizationId, { user_id: u.user.id })).status).toBe(200);
  });
});

describe('who may call', () => {
  const paths = [
    ['get', '/admin/oauth/authorizations/abc'],
    ['post', '/admin/oauth/authorizations/abc/approve'],
    ['post', '/admin/oauth/authorizations/abc/deny'],
  ] as const;
  it.each(paths)('%s %s: no credentials 401 no_authorization, a wrong X-API-Key 401 bad_api_key, a user JWT 403 not_admin', async (method, path) => {
    const user = forgeJwt({ sub: '00000000-0000-4000-8000-000000000001', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }, undefined);
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'no_authorization'],
      [{ 'X-API-Key': 'wrong' }, 401, 'bad_api_key'],
      [{ 'X-API-Key': '' }, 401, 'bad_api_key'],
      [{ 'X-API-Key': `${API_KEY}x` }, 401, 'bad_api_key'],
      // X-API-Key decides when sent: a valid JWT beside a wrong key does not rescue it.
      [{ 'X-API-Key': 'wrong', ...adminHeaders(t.deps) }, 401, 'bad_api_key'],
      [{ Authorization: `Bearer ${user}` }, 403, 'not_admin'],
      [{ Authorization: 'Bearer not-a-jwt' }, 403, 'bad_jwt'],
    ];
    for (const [headers, status, code] of cases) {
      const r = await request(t.app)[method](path).set(headers).send({ email: 'a@example.com' });
      expect([r.status, r.headers['x-sb-error-code']], JSON.stringify(headers)).toEqual([status, code]);
    }
    // Past authentication, the unknown request is not found.
    expect((await request(t.app)[method](path).set('X-API-Key', API_KEY).send({ email: 'a@example.com' })).status).toBe(404);
  });

  it('with GOTRUE_OAUTH_SERVER_API_KEY unset no X-API-Key is accepted; the service_role JWT still is', async () => {
    for (const key of [API_KEY, '', 'x']) {
      const r = await request(noKey.app).get('/admin/oauth/authorizations/abc').set('X-API-Key', key);
      expect([r.status, r.headers['x-sb-error-code']]).toEqual([401, 'bad_api_key']);
    }
    const r = await request(noKey.app).get('/admin/oauth/authorizations/abc').set(adminHeaders(noKey.deps));
    expect([r.status, r.headers['x-sb-error-code']]).toEqual([404, 'oauth_authorization_not_found']);
  });
});

describe('wrong keys are rate limited', () => {
  const get = (key: string, ip: string) => request(limited.app).get('/admin/oauth/authorizations/abc').set('X-API-Key', key).set('X-Forwarded-For', ip);

  it('right keys do not count; after GOTRUE_RATE_LIMIT_VERIFY wrong ones, 429 — even for the right key, so a guess cannot be confirmed', async () => {
    for (let i = 0; i < 10; i++) expect((await get(API_KEY, '203.0.113.7')).status).toBe(404);
    for (let i = 0; i < 3; i++) expect((await get(`wrong-${i}`, '203.0.113.7')).headers['x-sb-error-code']).toBe('bad_api_key');
    for (const key of ['wrong-3', API_KEY]) {
      const r = await get(key, '203.0.113.7');
      expect([r.status, r.headers['x-sb-error-code']]).toEqual([429, 'over_request_rate_limit']);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The service_role JWT (no X-API-Key) is not held back by the key's limit.
    expect((await request(limited.app).get('/admin/oauth/authorizations/abc').set(adminHeaders(limited.deps)).set('X-Forwarded-For', '203.0.113.7')).status).toBe(404);
  });

  it('parallel guesses are counted before any key is compared: at most GOTRUE_RATE_LIMIT_VERIFY get an answer', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => get(`guess-${i}`, '203.0.113.8')));
    const codes = answers.map((r) => r.headers['x-sb-error-code'] as string);
    expect(codes.filter((c) => c === 'bad_api_key')).toHaveLength(3);
    expect(codes.filter((c) => c === 'over_request_rate_limit')).toHaveLength(9);
  });
});

describe('invalid input', () => {
  let authorizationId: string;
  beforeAll(async () => {
    const c = await newClient();
    authorizationId = (await start(await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!)))).authorizationId;
  });
  const cases: [string, unknown, number, string][] = [
    ['no user named', {}, 400, 'validation_failed'],
    ['both user_id and email', { user_id: '00000000-0000-4000-8000-000000000001', email: 'a@example.com' }, 400, 'validation_failed'],
    ['user_id not a UUID', { user_id: 'nope' }, 400, 'validation_failed'],
    ['user_id a number', { user_id: 7 }, 400, 'validation_failed'],
    ['email malformed', { email: 'not-an-email' }, 400, 'email_address_invalid'],
    ['email too long', { email: `${'a'.repeat(300)}@example.com` }, 400, 'validation_failed'],
    ['create_user not a boolean', { email: 'a@example.com', create_user: 'yes' }, 400, 'validation_failed'],
    ['create_user with user_id', { user_id: '00000000-0000-4000-8000-000000000001', create_user: true }, 400, 'validation_failed'],
    ['unknown user_id', { user_id: '00000000-0000-4000-8000-000000000001' }, 404, 'user_not_found'],
    ['a JSON array', [], 400, 'bad_json'],
  ];
  it.each(cases)('approve: %s is refused and the request stays pending', async (_name, body, status, code) => {
    const r = await approveWith(authorizationId, body);
    expect([r.status, r.headers['x-sb-error-code']]).toEqual([status, code]);
    expect((await request(t.app).get(`/admin/oauth/authorizations/${authorizationId}`).set('X-API-Key', API_KEY)).status).toBe(200);
  });
  it('an over-long or unknown authorization id → 400 / 404', async () => {
    const long = await request(t.app).get(`/admin/oauth/authorizations/${'a'.repeat(200)}`).set('X-API-Key', API_KEY);
    expect([long.status, long.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    const unknown = await approveWith('no-such-request', { email: 'a@example.com' });
    expect([unknown.status, unknown.headers['x-sb-error-code']]).toEqual([404, 'oauth_authorization_not_found']);
  });
});
