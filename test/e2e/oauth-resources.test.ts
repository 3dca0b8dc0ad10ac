import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_SCOPES } from '../../src/domain/oauth-server';
import { useTestApp } from '../helpers/test-app';
import { serviceRoleJwt } from '../helpers/tokens';
import { listenOnLoopback } from '../helpers/loopback';
import { authorizeLocation, ISSUER, oauthEnv, relyingParty, rsaKey, signedInUser } from '../helpers/oauth-server';

/**
 * Resource servers with custom scopes (issue 15, item 4), end to end: an admin registers an API with its scopes,
 * openid-client as the RP asks for `resource` + those scopes, the user sees their descriptions and approves, and a
 * small resource server — a real HTTP peer — verifies the access token with jose against our JWKS (issuer,
 * audience, typ, scope), refusing a token for another resource. The token opens no first-party endpoint.
 */

const t = useTestApp({ listen: true, env: oauthEnv() });
const REDIRECT = 'https://rp.example.com/callback';
const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${t.url}${path}`, { ...init, headers: { Authorization: `Bearer ${serviceRoleJwt(t.deps)}`, 'Content-Type': 'application/json', ...init.headers } });

/** A notes API: GET /notes needs notes:read in a token whose aud is this API. Everything a resource server does. */
function notesApi() {
  let self = '';
  const server = createServer((req, res) => {
    void (async () => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!token) return answer(401, { error: 'invalid_token' });
      try {
        const jwks = createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`));
        const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: self, typ: 'at+jwt' });
        const scopes = String(payload['scope'] ?? '').split(' ');
        if (!scopes.includes('notes:read')) return answer(403, { error: 'insufficient_scope' });
        return answer(200, { sub: payload.sub, client_id: payload['client_id'], notes: ['buy milk'] });
      } catch (err) {
        return answer(401, { error: 'invalid_token', reason: (err as Error).message });
      }
    })();
  });
  return {
    async start() {
      const l = await listenOnLoopback(server);
      self = l.url;
      return l;
    },
  };
}

let notes: { url: string; close: () => Promise<void> };
let other: { url: string; close: () => Promise<void> };
let resourceId: string;

beforeAll(async () => {
  notes = await notesApi().start();
  other = await notesApi().start();
  for (const [uri, name] of [[notes.url, 'Notes API'], [other.url, 'Other API']]) {
    const r = await admin('/admin/oauth/resources', {
      method: 'POST',
      body: JSON.stringify({ resource: uri, name, scopes: [{ name: 'notes:read', description: 'Read your notes' }, { name: 'notes:write', description: 'Change your notes' }], access_token_ttl: 900 }),
    });
    expect(r.status).toBe(201);
    if (uri === notes.url) resourceId = ((await r.json()) as { id: string }).id;
  }
});
afterAll(async () => {
  await notes.close();
  await other.close();
});

async function newClient(extra: Record<string, unknown> = {}) {
  const r = await admin('/admin/oauth/clients', { method: 'POST', body: JSON.stringify({ client_name: 'Notes app', redirect_uris: [REDIRECT], ...extra }) });
  const c = (await r.json()) as { client_id: string; client_secret: string };
  return { c, config: await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret)) };
}

/** authorize → consent page (auth-js, signed in) → details → approve → tokens. */
async function signIn(config: oidc.Configuration, scope: string, resource: string, as?: Awaited<ReturnType<typeof signedInUser>>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope, resource, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const r = await authorizeLocation(t.url, url);
  const authorizationId = new URL(r.location!).searchParams.get('authorization_id')!;
  const gotrue = t.client();
  const user = as ?? (await signedInUser(gotrue, { name: 'Ada' }));
  if (as) await gotrue.setSession({ access_token: as.session.access_token, refresh_token: as.session.refresh_token });
  const details = await gotrue.oauth.getAuthorizationDetails(authorizationId);
  const adminView = (await (await admin(`/admin/oauth/authorizations/${authorizationId}`)).json()) as Record<string, unknown>;
  const approved = await gotrue.oauth.approveAuthorization(authorizationId, { skipBrowserRedirect: true });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(approved.data!.redirect_url), { pkceCodeVerifier: verifier, expectedState: state });
  return { tokens, details: details.data as unknown as Record<string, unknown>, adminView, user, gotrue };
}

const call = (api: { url: string }, token: string) => fetch(`${api.url}/notes`, { headers: { Authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe('resource servers with custom scopes', () => {
  it("discovery lists the registered resources' scopes after the OpenID ones, each once, and follows the admin's changes", async () => {
    const scopes = async () =>
      Promise.all(['openid-configuration', 'oauth-authorization-server'].map(async (doc) => ((await (await fetch(`${t.url}/.well-known/${doc}`)).json()) as { scopes_supported: string[] }).scopes_supported));
    // Both APIs define notes:read and notes:write: listed once.
    expect(await scopes()).toEqual(Array(2).fill([...SUPPORTED_SCOPES, 'notes:read', 'notes:write']));

    const made = await admin('/admin/oauth/resources', { method: 'POST', body: JSON.stringify({ resource: 'https://calendar.example.com/api', name: 'Calendar', scopes: [{ name: 'calendar:read' }, { name: 'notes:read' }] }) });
    expect(made.status).toBe(201);
    expect(await scopes()).toEqual(Array(2).fill([...SUPPORTED_SCOPES, 'notes:read', 'notes:write', 'calendar:read']));
    expect((await admin(`/admin/oauth/resources/${((await made.json()) as { id: string }).id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await scopes()).toEqual(Array(2).fill([...SUPPORTED_SCOPES, 'notes:read', 'notes:write']));
  });

  it('the RP asks for the notes API: consent shows the descriptions, the API verifies the token with jose, another API and first-party endpoints refuse it', async () => {
    const { c, config } = await newClient();
    const { tokens, details, adminView, user, gotrue } = await signIn(config, 'openid notes:read offline_access', notes.url);

    const described = [
      { name: 'openid', description: expect.any(String) as string },
      { name: 'notes:read', description: 'Read your notes' },
      { name: 'offline_access', description: expect.any(String) as string },
    ];
    expect(details).toMatchObject({ scope: 'openid notes:read offline_access', scopes: described, resource: { resource: notes.url, name: 'Notes API' } });
    expect(adminView).toMatchObject({ scope: 'openid notes:read offline_access', scopes: described });

    // The access token: RFC 9068, for the notes API only, none of a session JWT's first-party claims.
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: rsaKey.kid });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: notes.url, sub: user.user.id, client_id: c.client_id, scope: 'openid notes:read offline_access' });
    expect(claims.exp! - claims.iat!).toBe(900);
    for (const k of ['role', 'email', 'app_metadata', 'user_metadata', 'aal', 'amr', 'is_anonymous']) expect(claims).not.toHaveProperty(k);
    expect(tokens.expires_in).toBe(900);
    expect(tokens.claims()).toMatchObject({ sub: user.user.id, aud: c.client_id }); // the ID token is still the RP's

    expect(await call(notes, tokens.access_token)).toEqual({ status: 200, body: { sub: user.user.id, client_id: c.client_id, notes: ['buy milk'] } });
    const refused = await call(other, tokens.access_token);
    expect(refused.status).toBe(401);
    expect(String(refused.body['reason'])).toMatch(/aud/);

    // First-party endpoints: the token is not a session JWT.
    const me = await fetch(`${t.url}/user`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect([me.status, ((await me.json()) as { error_code: string }).error_code]).toEqual([403, 'oauth_resource_token_not_allowed']);
    const viaAuthJs = await gotrue.getUser(tokens.access_token);
    expect(viaAuthJs.error).toMatchObject({ status: 403, code: 'oauth_resource_token_not_allowed' });
    // userinfo still answers: openid was granted.
    expect(await oidc.fetchUserInfo(config, tokens.access_token, user.user.id)).toMatchObject({ sub: user.user.id });

    // Introspection reports the resource binding.
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, aud: notes.url, scope: 'openid notes:read offline_access', client_id: c.client_id, sub: user.user.id });
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toMatchObject({ active: true, aud: notes.url, client_id: c.client_id });
  });

  it('refresh keeps the resource (and may narrow the scopes); another resource is invalid_target; a token without openid gets no userinfo', async () => {
    const { config } = await newClient();
    const { tokens, user } = await signIn(config, 'notes:read notes:write offline_access', notes.url);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: other.url })).rejects.toMatchObject({ error: 'invalid_target' });

    const narrowed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'notes:write', resource: notes.url });
    expect(decodeJwt(narrowed.access_token)).toMatchObject({ aud: notes.url, scope: 'notes:write' });
    expect(await call(notes, narrowed.access_token)).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    const full = await oidc.refreshTokenGrant(config, narrowed.refresh_token!);
    expect(decodeJwt(full.access_token)).toMatchObject({ aud: notes.url, scope: 'notes:read notes:write offline_access' });
    expect((await call(notes, full.access_token)).status).toBe(200);

    const info = await fetch(`${t.url}/oauth/userinfo`, { headers: { Authorization: `Bearer ${full.access_token}` } });
    expect([info.status, ((await info.json()) as { error: string }).error]).toEqual([403, 'insufficient_scope']);
    expect(user.user.id).toBeTruthy();

    // The admin takes notes:write away: the next refresh drops it.
    const put = await admin(`/admin/oauth/resources/${resourceId}`, { method: 'PUT', body: JSON.stringify({ name: 'Notes API', scopes: [{ name: 'notes:read', description: 'Read your notes' }], access_token_ttl: 900 }) });
    expect(put.status).toBe(200);
    const after = await oidc.refreshTokenGrant(config, full.refresh_token!);
    expect(decodeJwt(after.access_token)).toMatchObject({ scope: 'notes:read offline_access' });
    await admin(`/admin/oauth/resources/${resourceId}`, { method: 'PUT', body: JSON.stringify({ name: 'Notes API', scopes: [{ name: 'notes:read', description: 'Read your notes' }, { name: 'notes:write', description: 'Change your notes' }], access_token_ttl: 900 }) });
  });

  it('a grant with a resource\'s scopes is asked again next time (scope names are not unique across resources); OpenID-only requests are auto-approved', async () => {
    const { config } = await newClient();
    const first = await signIn(config, 'openid notes:read', notes.url);
    const again = await signIn(config, 'openid notes:read', notes.url, first.user);
    expect(again.details).toHaveProperty('authorization_id');
    expect(again.details).not.toHaveProperty('redirect_url');
    // Without a resource's scopes the house rule stands: the grant covers openid, so no consent page.
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const id = new URL((await authorizeLocation(t.url, url)).location!).searchParams.get('authorization_id')!;
    expect((await again.gotrue.oauth.getAuthorizationDetails(id)).data).toHaveProperty('redirect_url');
  });

  it('deleting a resource ends its tokens: refresh is invalid_grant, introspection inactive, the client hears by back-channel logout', async () => {
    const temp = await notesApi().start();
    const logoutTokens: string[] = [];
    const receiver = await listenOnLoopback(
      createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
          res.writeHead(200).end();
        });
      }),
    );
    try {
      const made = await admin('/admin/oauth/resources', { method: 'POST', body: JSON.stringify({ resource: temp.url, name: 'Temp', scopes: [{ name: 'notes:read' }] }) });
      const id = ((await made.json()) as { id: string }).id;
      const { c, config } = await newClient({ backchannel_logout_uri: `${receiver.url}/bc` });
      const { tokens, user } = await signIn(config, 'openid notes:read offline_access', temp.url);
      expect((await call(temp, tokens.access_token)).status).toBe(200);
      expect((await admin(`/admin/oauth/resources/${id}`, { method: 'DELETE' })).status).toBe(204);
      await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
      await t.deps.backchannelLogout.idle();
      expect(logoutTokens.map((tok) => decodeJwt(tok))).toEqual([expect.objectContaining({ aud: c.client_id, sub: user.user.id, sid: decodeJwt(tokens.access_token)['session_id'] })]);
      expect((await admin(`/admin/oauth/resources/${id}`, { method: 'DELETE' })).status).toBe(404);
    } finally {
      await temp.close();
      await receiver.close();
    }
  });
});
