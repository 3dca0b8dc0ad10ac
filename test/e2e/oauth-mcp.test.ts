import { createServer, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { listenOnLoopback } from '../helpers/loopback';
import { authorizeLocation, CONSENT_PATH, ISSUER, oauthEnv, relyingParty, RESOURCE, signedInUser } from '../helpers/oauth-server';

/**
 * MCP authorization (issue 15, item 5): an MCP client names itself by a Client ID Metadata Document it serves (here
 * a local listener, allowed by the testing-only origin setting) and signs a user in with no registration.
 */

/** The MCP client's documents, by path: what to answer, and how often each was fetched. */
const documents = new Map<string, (res: ServerResponse, url: string) => void>();
const fetches = new Map<string, number>();
let docs: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  docs = await listenOnLoopback(
    createServer((req, res) => {
      const path = req.url ?? '';
      fetches.set(path, (fetches.get(path) ?? 0) + 1);
      const answer = documents.get(path);
      if (!answer) return res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      answer(res, `${docs.url}${path}`);
    }),
  );
});
afterAll(() => docs.close());

const mcpEnv = (extra: Record<string, string> = {}) =>
  oauthEnv({
    GOTRUE_OAUTH_SERVER_CIMD_ENABLED: 'true',
    GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: docs.url,
    // A document's own Cache-Control decides; no-store then means "fetch every time".
    GOTRUE_OAUTH_SERVER_CIMD_CACHE_MIN_TTL: '0s',
    GOTRUE_OAUTH_SERVER_CIMD_FETCH_TIMEOUT: '1s',
    ...extra,
  });

/** The default GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL (10 s). */
const t = useTestApp({ listen: true, env: () => mcpEnv() });

/** A native MCP client's loopback redirect (RFC 8252 §7.3), as Claude Code or VS Code use. */
const REDIRECT = 'http://127.0.0.1:33418/callback';

const serveJson = (doc: unknown, headers: Record<string, string> = {}) => (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(doc));

/** Serves a valid document at `path` (its client_id is its own URL) and returns that URL. */
function publish(path: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = { 'cache-control': 'max-age=3600' }): string {
  documents.set(path, (res, url) => serveJson({ client_id: url, client_name: 'MCP Inspector', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', ...extra }, headers)(res));
  return `${docs.url}${path}`;
}

async function authorizeMcp(config: oidc.Configuration, extra: Record<string, string> = {}, app: { url: string; client: () => ReturnType<typeof t.client> } = t) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: RESOURCE,
    state,
    nonce,
    ...extra,
  });
  const r = await authorizeLocation(app.url, url);
  expect(r.status, r.body).toBe(302);
  const consent = new URL(r.location!);
  expect(consent.pathname).toBe(CONSENT_PATH);
  const authorizationId = consent.searchParams.get('authorization_id')!;
  const gotrue = app.client();
  const user = await signedInUser(gotrue);
  await gotrue.setSession({ access_token: user.session.access_token, refresh_token: user.session.refresh_token });
  const details = await gotrue.oauth.getAuthorizationDetails(authorizationId);
  expect(details.error).toBeNull();
  const approved = await gotrue.oauth.approveAuthorization(authorizationId, { skipBrowserRedirect: true });
  expect(approved.error).toBeNull();
  return { verifier, state, nonce, user, details: details.data!, redirectUrl: new URL(approved.data!.redirect_url) };
}

/** /oauth/authorize for a client_id, PKCE included: status, Location, body, error code. */
async function authorizeRaw(clientId: string, params: Record<string, string> = {}, app: { url: string } = t) {
  const q = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256', state: 'st', ...params });
  const res = await fetch(`${app.url}/oauth/authorize?${q}`, { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), code: res.headers.get('x-sb-error-code'), body: (await res.text()) || '{}' };
}

describe('MCP clients with a Client ID Metadata Document', () => {
  it('discovery says client_id_metadata_document_supported, S256 only and iss on responses', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: ISSUER,
      client_id_metadata_document_supported: true,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      registration_endpoint: `${ISSUER}/oauth/clients/register`,
    });
    expect(meta['token_endpoint_auth_methods_supported']).toContain('none');
  });

  it('runs the whole code flow with openid-client (PKCE, resource) and no registration; the ID token names the URL', async () => {
    const clientId = publish('/mcp/client.json');
    const config = await relyingParty(t.url, clientId, oidc.None());
    const flow = await authorizeMcp(config);
    // The name is the document's own word; the host it is served from is ours to vouch for (phishing defence).
    expect(flow.details).toMatchObject({ client: { id: clientId, name: 'MCP Inspector', client_id_host: new URL(docs.url).host } });
    expect(flow.redirectUrl.origin + flow.redirectUrl.pathname).toBe(REDIRECT);
    expect(flow.redirectUrl.searchParams.get('iss')).toBe(ISSUER);

    const checks = { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true };
    // MCP clients send `resource` on the token request too (RFC 8707 §2.2): another resource is invalid_target.
    await expect(oidc.authorizationCodeGrant(config, flow.redirectUrl, checks, { resource: 'https://other.example.com/mcp' })).rejects.toMatchObject({ error: 'invalid_target' });
    const tokens = await oidc.authorizationCodeGrant(config, flow.redirectUrl, checks, { resource: RESOURCE });
    expect(tokens.claims()).toMatchObject({ iss: ISSUER, aud: clientId, azp: clientId, sub: flow.user.user.id });
    // RFC 8707: the MCP server (the resource) is the access token's audience.
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: RESOURCE, sub: flow.user.user.id, client_id: clientId });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: RESOURCE, client_id: clientId });
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toMatchObject({ active: true, aud: RESOURCE, client_id: clientId });
    expect(await oidc.tokenIntrospection(config, refreshed.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token', client_id: clientId });
    // One fetch: the document said max-age=3600, so the token endpoint and later requests use the stored row.
    await authorizeMcp(config);
    expect(fetches.get('/mcp/client.json')).toBe(1);

    // The client revokes by its URL client_id: the access token's session ends, the refresh token with it.
    await oidc.tokenRevocation(config, refreshed.access_token);
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('fetches a no-store document again on each authorization, and a changed document takes effect', async () => {
    const path = '/mcp/changing.json';
    const clientId = publish(path, {}, { 'cache-control': 'no-store' });
    expect((await authorizeRaw(clientId)).status).toBe(302);
    const other = 'http://127.0.0.1:50505/other';
    expect((await authorizeRaw(clientId, { redirect_uri: other })).status).toBe(400);
    publish(path, { redirect_uris: [REDIRECT, other] }, { 'cache-control': 'no-store' });
    expect((await authorizeRaw(clientId, { redirect_uri: other })).status).toBe(302);
    expect(fetches.get(path)).toBe(3);
  });

  it("the approve-by-API details name the document's host beside its client_name; a registered client has no such field", async () => {
    const clientId = publish('/mcp/backend.json', { client_name: 'Google Drive' });
    const r = await authorizeRaw(clientId);
    const id = new URL(r.location!).searchParams.get('authorization_id')!;
    const details = await fetch(`${t.url}/admin/oauth/authorizations/${id}`, { headers: adminHeaders(t.deps) });
    expect(details.status).toBe(200);
    expect(((await details.json()) as { client: unknown }).client).toEqual({ id: clientId, name: 'Google Drive', uri: '', logo_uri: '', client_id_host: new URL(docs.url).host });

    const registered = await fetch(`${t.url}/admin/oauth/clients`, { method: 'POST', headers: { ...adminHeaders(t.deps), 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Registered', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) });
    const c = (await registered.json()) as { client_id: string };
    const other = await authorizeRaw(c.client_id);
    const otherId = new URL(other.location!).searchParams.get('authorization_id')!;
    const otherDetails = (await (await fetch(`${t.url}/admin/oauth/authorizations/${otherId}`, { headers: adminHeaders(t.deps) })).json()) as { client: unknown };
    expect(otherDetails.client).toEqual({ id: c.client_id, name: 'Registered', uri: '', logo_uri: '' });
  });

  it('a public metadata client must use PKCE; errors after the redirect URI is trusted go back to it with state and iss', async () => {
    const clientId = publish('/mcp/pkce.json');
    const noPkce = await authorizeRaw(clientId, { code_challenge: '', code_challenge_method: '' });
    expect(noPkce.status).toBe(302);
    expect(Object.fromEntries(new URL(noPkce.location!).searchParams)).toMatchObject({ error: 'invalid_request', state: 'st', iss: ISSUER });
    const badTarget = await authorizeRaw(clientId, { resource: 'https://not-ours.example.com/mcp' });
    expect(Object.fromEntries(new URL(badTarget.location!).searchParams)).toMatchObject({ error: 'invalid_target', state: 'st', iss: ISSUER });
    const badType = await authorizeRaw(clientId, { response_type: 'token' });
    expect(Object.fromEntries(new URL(badType.location!).searchParams)).toMatchObject({ error: 'unsupported_response_type', iss: ISSUER });
  });

  const big = 'x'.repeat(6000);
  it.each([
    ['a client_id that is not the URL', '/bad/mismatch.json', (res: ServerResponse) => serveJson({ client_id: 'https://someone-else.example.com/client.json', redirect_uris: [REDIRECT] })(res)],
    ['no redirect_uris', '/bad/no-redirects.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, client_name: 'x' })(res)],
    ['an empty redirect_uris', '/bad/empty-redirects.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [] })(res)],
    ['a redirect URI with a fragment', '/bad/fragment.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [`${REDIRECT}#x`] })(res)],
    ['a document over the size cap', '/bad/oversize.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [REDIRECT], client_name: big })(res)],
    ['a redirect to another document', '/bad/redirect.json', (res: ServerResponse) => res.writeHead(302, { location: '/mcp/client.json' }).end()],
    ['a client secret method', '/bad/secret.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' })(res)],
    ['private_key_jwt (not implemented)', '/bad/pkjwt.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${url}.jwks` })(res)],
    ['a client_secret in the document', '/bad/with-secret.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [REDIRECT], client_secret: 'x' })(res)],
    ['client_credentials among grant_types', '/bad/cc.json', (res: ServerResponse, url: string) => serveJson({ client_id: url, redirect_uris: [REDIRECT], grant_types: ['client_credentials'] })(res)],
    ['HTML, not JSON', '/bad/html.json', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html/>')],
    ['JSON that does not parse', '/bad/garbage.json', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":')],
    ['an array', '/bad/array.json', (res: ServerResponse) => serveJson([])(res)],
    ['a 404', '/bad/missing.json', undefined],
  ])('refuses %s with 400 oauth_client_metadata_invalid, never a redirect', async (_what, path, answer) => {
    if (answer) documents.set(path, answer);
    const r = await authorizeRaw(`${docs.url}${path}`);
    expect([r.status, r.location, r.code]).toEqual([400, null, 'oauth_client_metadata_invalid']);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'invalid_client' });
  });

  it('never fetches from a private address unless the origin is on the testing-only list', async () => {
    // https to a loopback literal: refused by the SSRF guard before any connection.
    const loopback = await authorizeRaw('https://127.0.0.1/client.json');
    expect([loopback.status, loopback.code]).toEqual([400, 'oauth_client_metadata_invalid']);
    expect(JSON.parse(loopback.body).error_description).toMatch(/non-public address/);
    // http from an origin not on the list is not a metadata document URL at all: an unknown client.
    const otherPort = await authorizeRaw(`http://127.0.0.1:${Number(new URL(docs.url).port) + 1}/client.json`);
    expect([otherPort.status, otherPort.code]).toEqual([400, 'oauth_client_not_found']);
  });

  it('a client_id URL with no path, a fragment or dot segments is not a metadata document URL', async () => {
    for (const id of [`${docs.url}/`, `${docs.url}/mcp/client.json#x`, `${docs.url}/a/../mcp/client.json`]) {
      expect((await authorizeRaw(id)).code, id).toBe('oauth_client_not_found');
    }
  });

  it('dynamic registration still works beside metadata documents', async () => {
    const res = await fetch(`${t.url}/oauth/clients/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Registered MCP client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) });
    expect(res.status).toBe(201);
    const c = (await res.json()) as { client_id: string; registration_type: string };
    expect(c.registration_type).toBe('dynamic');
    const config = await relyingParty(t.url, c.client_id, oidc.None());
    const flow = await authorizeMcp(config);
    const tokens = await oidc.authorizationCodeGrant(config, flow.redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    expect(tokens.claims()).toMatchObject({ aud: c.client_id });
  });
});

describe('a refused metadata document (negative cache: the minimum TTL, or 60 s when it is 0 as here)', () => {
  /** This app's clock, moved forward by the test. */
  let skewMs = 0;
  const later = useTestApp({ listen: true, env: () => mcpEnv(), overrides: { clock: { now: () => new Date(Date.now() + skewMs) } } });

  it('is refused again without a fetch inside the window, then fetched again (and accepted once fixed)', async () => {
    const path = '/refused/retry.json';
    const clientId = `${docs.url}${path}`;
    const first = await authorizeRaw(clientId, {}, later);
    expect([first.status, first.code]).toEqual([400, 'oauth_client_metadata_invalid']);
    expect(fetches.get(path)).toBe(1);

    // A client retrying in a loop: the same refusal, no fetch; fixing the document is not seen inside the window.
    for (let i = 0; i < 3; i++) {
      const again = await authorizeRaw(clientId, {}, later);
      expect([again.status, again.code, JSON.parse(again.body).error_description]).toEqual([400, 'oauth_client_metadata_invalid', JSON.parse(first.body).error_description]);
    }
    publish(path);
    expect((await authorizeRaw(clientId, {}, later)).status).toBe(400);
    expect(fetches.get(path)).toBe(1);

    skewMs = 59_000;
    expect((await authorizeRaw(clientId, {}, later)).status).toBe(400);
    expect(fetches.get(path)).toBe(1);
    skewMs = 61_000;
    expect((await authorizeRaw(clientId, {}, later)).status).toBe(302);
    expect(fetches.get(path)).toBe(2);
  });

  it('remembers each URL on its own: another failing document is still fetched', async () => {
    documents.set('/refused/other.json', serveJson({ client_id: 'https://someone-else.example.com/c.json', redirect_uris: [REDIRECT] }));
    expect((await authorizeRaw(`${docs.url}/refused/other.json`, {}, later)).code).toBe('oauth_client_metadata_invalid');
    expect(fetches.get('/refused/other.json')).toBe(1);
  });
});

/** An MCP client signed in on `app`: its openid-client configuration and first tokens (with a refresh token). */
async function signedInMcpClient(app: { url: string; client: () => ReturnType<typeof t.client> }, path: string) {
  const clientId = publish(path);
  const config = await relyingParty(app.url, clientId, oidc.None());
  const flow = await authorizeMcp(config, {}, app);
  const tokens = await oidc.authorizationCodeGrant(config, flow.redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
  expect(tokens.refresh_token).toBeDefined();
  return { config, tokens };
}

const errorOf = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: unknown) => e)) as { error?: string } | undefined)?.error;

describe('the refresh grace window (GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL, default 10 s)', () => {
  it('several processes refreshing one token at once all get an answer, and the same new refresh token', async () => {
    const { config, tokens } = await signedInMcpClient(t, '/grace/concurrent.json');
    // On Postgres these run concurrently and queue on the session's row lock; PGlite serialises them, same rule.
    const answers = await Promise.all(Array.from({ length: 6 }, () => oidc.refreshTokenGrant(config, tokens.refresh_token!)));
    const next = new Set(answers.map((a) => a.refresh_token));
    expect(next.size).toBe(1);
    const [b] = [...next];
    expect(b).not.toBe(tokens.refresh_token);
    for (const a of answers) expect(await oidc.tokenIntrospection(config, a.access_token)).toMatchObject({ active: true });

    // The family moves on (B → C); a process still holding A inside the window gets the live token C, not a fork.
    const c = await oidc.refreshTokenGrant(config, b!);
    const late = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(late.refresh_token).toBe(c.refresh_token);
    expect((await oidc.refreshTokenGrant(config, c.refresh_token!)).refresh_token).not.toBe(c.refresh_token);
  });
});

describe('a reuse after the grace window (1 s here)', () => {
  const short = useTestApp({ listen: true, env: () => mcpEnv({ GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL: '1' }) });

  it('is served inside the window, then revokes the whole family and ends the session', async () => {
    const { config, tokens } = await signedInMcpClient(short, '/grace/short.json');
    const b = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token).toBe(b.refresh_token);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await errorOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toBe('invalid_grant');
    // The family is gone (the live token too) and the session ended: its access token is no longer active.
    expect(await errorOf(oidc.refreshTokenGrant(config, b.refresh_token!))).toBe('invalid_grant');
    expect(await oidc.tokenIntrospection(config, b.access_token)).toEqual({ active: false });
  });
});

describe('strict replay detection (interval 0)', () => {
  const strict = useTestApp({ listen: true, env: () => mcpEnv({ GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL: '0' }) });

  it('a second use of a refresh token ends the session at once, even when the first answer was lost', async () => {
    const { config, tokens } = await signedInMcpClient(strict, '/grace/strict.json');
    const b = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await errorOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toBe('invalid_grant');
    expect(await errorOf(oidc.refreshTokenGrant(config, b.refresh_token!))).toBe('invalid_grant');
    expect(await oidc.tokenIntrospection(config, b.access_token)).toEqual({ active: false });
  });
});
