import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader, SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';
import { serviceRoleJwt } from '../helpers/tokens';
import { onPostgres } from '../helpers/test-db';
import { TEST_JWT_SECRET } from '../helpers/test-server';
import { authorizeLocation, CONSENT_PATH, ISSUER, oauthEnv, relyingParty, RESOURCE, rewritingFetch, rsaKey, signedInUser } from '../helpers/oauth-server';
import { GoTrueAdminApi } from '@supabase/auth-js';

const t = useTestApp({ listen: true, env: oauthEnv() });
const REDIRECT = 'https://rp.example.com/callback';

const admin = () => new GoTrueAdminApi({ url: `${t.url}/auth/v1`, headers: { Authorization: `Bearer ${serviceRoleJwt(t.deps)}`, apikey: 'x' } });

/** The RFC 6749 `error` an openid-client call failed with (from the body, or the WWW-Authenticate challenge of a 401). */
async function oauthErrorOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = (await p.then(() => undefined, (e: unknown) => e)) as { error?: string; cause?: { parameters?: { error?: string } }[] } | undefined;
  return err?.error ?? err?.cause?.[0]?.parameters?.error;
}

async function newClient(body: Record<string, unknown>) {
  const { data, error } = await admin().oauth.createClient({ client_name: 'RP', redirect_uris: [REDIRECT], ...body } as never);
  if (error || !data) throw error ?? new Error('no client');
  return data as typeof data & { client_secret?: string };
}

/** The whole front channel: authorize → consent page (auth-js, signed in) → approve → the redirect back. */
async function authorize(config: oidc.Configuration, params: Record<string, string>, user?: Awaited<ReturnType<typeof signedInUser>>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const r = await authorizeLocation(t.url, url);
  expect(r.status).toBe(302);
  const consent = new URL(r.location!);
  expect(consent.origin + consent.pathname).toBe(`http://localhost:3000${CONSENT_PATH}`);
  const authorizationId = consent.searchParams.get('authorization_id')!;
  const gotrue = t.client();
  const u = user ?? (await signedInUser(gotrue, { name: 'Ada Lovelace' }));
  await gotrue.setSession({ access_token: u.session.access_token, refresh_token: u.session.refresh_token });
  return { verifier, state, nonce, authorizationId, gotrue, user: u };
}

async function approve(flow: Awaited<ReturnType<typeof authorize>>) {
  const details = await flow.gotrue.oauth.getAuthorizationDetails(flow.authorizationId);
  expect(details.error).toBeNull();
  const approved = await flow.gotrue.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true });
  expect(approved.error).toBeNull();
  return { details: details.data!, redirectUrl: new URL(approved.data!.redirect_url) };
}

describe('OAuth 2.1 / OpenID provider through openid-client and auth-js', () => {
  it('a confidential client signs a user in: discovery, code + PKCE, ID token against the JWKS, userinfo, refresh, introspection, revocation', async () => {
    const c = await newClient({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(c.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    expect(config.serverMetadata().issuer).toBe(ISSUER);

    const flow = await authorize(config, {});
    const { details, redirectUrl } = await approve(flow);
    expect(details).toMatchObject({ authorization_id: flow.authorizationId, redirect_uri: REDIRECT, client: { id: c.client_id, name: 'RP' }, scope: 'openid email profile offline_access' });
    expect(redirectUrl.searchParams.get('iss')).toBe(ISSUER);

    const tokens = await oidc.authorizationCodeGrant(config, redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: ISSUER, sub: flow.user.user.id, aud: c.client_id, nonce: flow.nonce, email: flow.user.email, email_verified: true, name: 'Ada Lovelace', acr: 'aal1', amr: ['password'] });
    // auth_time: when the user signed in (the consent page's session), not when the code was exchanged.
    expect(claims.auth_time).toBe((decodeJwt(flow.user.session.access_token).amr as { timestamp: number }[])[0]!.timestamp);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: rsaKey.kid });
    expect(claims.at_hash).toBe(createHash('sha256').update(tokens.access_token).digest().subarray(0, 16).toString('base64url'));
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: flow.user.user.id, client_id: c.client_id, scope: 'openid email profile offline_access' });

    // The token acts for the user elsewhere; on the user's account it reads but changes nothing.
    const asUser = await fetch(`${t.url}/user`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(asUser.status).toBe(200);
    const change = await fetch(`${t.url}/user`, { method: 'PUT', headers: { Authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'taken-over-1' }) });
    expect([change.status, change.headers.get('x-sb-error-code')]).toEqual([403, 'oauth_client_token_not_allowed']);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: flow.user.user.id, email: flow.user.email, name: 'Ada Lovelace' });
    expect(info).not.toHaveProperty('phone_number');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ client_id: c.client_id, scope: 'openid email profile offline_access' });

    const live = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(live).toMatchObject({ active: true, client_id: c.client_id, sub: flow.user.user.id, token_type: 'access_token' });
    expect(await oidc.tokenIntrospection(config, refreshed.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });

    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).rejects.toThrow();
  });

  it('a public SPA client does the same with PKCE and no secret; without offline_access there is no refresh token', async () => {
    const c = await newClient({ client_type: 'public' });
    expect(c.client_secret).toBeUndefined();
    expect(c.token_endpoint_auth_method).toBe('none');
    const config = await relyingParty(t.url, c.client_id, oidc.None());
    const flow = await authorize(config, { scope: 'openid email' });
    const { redirectUrl } = await approve(flow);
    const tokens = await oidc.authorizationCodeGrant(config, redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.claims()).not.toHaveProperty('name');
    expect(await oidc.fetchUserInfo(config, tokens.access_token, flow.user.user.id)).toEqual({ sub: flow.user.user.id, email: flow.user.email, email_verified: true });
    // A public client (no secret) introspects its own tokens only.
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: c.client_id });
    expect(await oidc.tokenIntrospection(config, flow.user.session.access_token)).toEqual({ active: false });
  });

  it('a public client without PKCE is sent back with invalid_request; an unregistered redirect URI is never redirected to', async () => {
    const c = await newClient({ client_type: 'public' });
    const noPkce = await authorizeLocation(t.url, `${t.url}/oauth/authorize?client_id=${c.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=s1`);
    const back = new URL(noPkce.location!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'invalid_request', state: 's1', iss: ISSUER });

    const evil = await authorizeLocation(t.url, `${t.url}/oauth/authorize?client_id=${c.client_id}&redirect_uri=${encodeURIComponent('https://evil.example.com/cb')}&response_type=code`);
    expect(evil.status).toBe(400);
    expect(evil.location).toBeNull();
    expect(JSON.parse(evil.body)).toEqual({ error: 'invalid_request', error_description: 'invalid redirect_uri' });
  });

  it('denying sends access_denied back; an approved grant is auto-approved next time', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const denied = await authorize(config, {});
    await denied.gotrue.oauth.getAuthorizationDetails(denied.authorizationId); // the consent page opens it first
    const d = await denied.gotrue.oauth.denyAuthorization(denied.authorizationId, { skipBrowserRedirect: true });
    expect(Object.fromEntries(new URL(d.data!.redirect_url).searchParams)).toMatchObject({ error: 'access_denied', state: denied.state });

    const first = await authorize(config, {});
    await approve(first);
    const second = await authorize(config, { scope: 'openid email' }, first.user);
    const again = await second.gotrue.oauth.getAuthorizationDetails(second.authorizationId);
    expect(again.data).toHaveProperty('redirect_url');
    const tokens = await oidc.authorizationCodeGrant(config, new URL((again.data as { redirect_url: string }).redirect_url), { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce });
    expect(tokens.claims()!.sub).toBe(first.user.user.id);

    // prompt=consent asks again although the grant covers the scopes.
    const asked = await authorize(config, { scope: 'openid', prompt: 'consent' }, first.user);
    expect((await asked.gotrue.oauth.getAuthorizationDetails(asked.authorizationId)).data).toHaveProperty('authorization_id');

    const grants = await first.gotrue.oauth.listGrants();
    expect(grants.data).toEqual([expect.objectContaining({ client: expect.objectContaining({ id: c.client_id }), scopes: ['openid', 'email', 'profile', 'offline_access'] })]);
    expect((await first.gotrue.oauth.revokeGrant({ clientId: c.client_id })).error).toBeNull();
    expect((await first.gotrue.oauth.listGrants()).data).toEqual([]);
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
  });

  it('client_credentials: a confidential client acts for itself, with an RFC 8707 audience', async () => {
    const c = await newClient({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretPost(c.client_secret!));
    const tokens = await oidc.clientCredentialsGrant(config, { resource: RESOURCE });
    expect(tokens.refresh_token).toBeUndefined();
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: c.client_id, client_id: c.client_id, aud: RESOURCE });
    await expect(oidc.clientCredentialsGrant(config, { resource: 'https://unknown.example.com' })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(oidc.clientCredentialsGrant(config, { scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses: wrong verifier, a reused code (which ends what the first use issued), a wrong secret, another client\'s refresh token, an expired authorization', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const { redirectUrl } = await approve(flow);
    const checks = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: flow.state, expectedNonce: flow.nonce };
    await expect(oidc.authorizationCodeGrant(config, redirectUrl, checks)).rejects.toMatchObject({ error: 'invalid_grant' });

    // The wrong verifier rolled back: the right one still redeems the code once.
    const tokens = await oidc.authorizationCodeGrant(config, redirectUrl, { ...checks, pkceCodeVerifier: flow.verifier });
    await expect(oidc.authorizationCodeGrant(config, redirectUrl, { ...checks, pkceCodeVerifier: flow.verifier })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const wrong = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic('not-the-secret'));
    const res = await fetch(`${t.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${c.client_id}:nope`).toString('base64')}` },
      body: 'grant_type=refresh_token&refresh_token=x',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    expect(await oauthErrorOf(oidc.clientCredentialsGrant(wrong))).toBe('invalid_client');

    const other = await newClient({});
    const otherConfig = await relyingParty(t.url, other.client_id, oidc.ClientSecretBasic(other.client_secret!));
    const f2 = await authorize(config, {});
    const t2 = await oidc.authorizationCodeGrant(config, (await approve(f2)).redirectUrl, { pkceCodeVerifier: f2.verifier, expectedState: f2.state, expectedNonce: f2.nonce });
    await expect(oidc.refreshTokenGrant(otherConfig, t2.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(otherConfig, t2.refresh_token!)).toEqual({ active: false });
    // …and the rightful client still refreshes it.
    expect((await oidc.refreshTokenGrant(config, t2.refresh_token!)).access_token).toBeTruthy();

    const f3 = await authorize(config, {});
    await t.db.db.updateTable('oauth_authorizations').set({ expires_at: new Date(Date.now() - 1000), created_at: new Date(Date.now() - 60_000) }).where('authorization_id', '=', f3.authorizationId).execute();
    const expired = await f3.gotrue.oauth.getAuthorizationDetails(f3.authorizationId);
    expect(expired.error).toMatchObject({ status: 404, code: 'oauth_authorization_not_found' });
  });

  it('a replayed refresh token inside the reuse interval gets the live one, never a fork (after it: oauth-mcp.test.ts)', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const tokens = await oidc.authorizationCodeGrant(config, (await approve(flow)).redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    const second = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    // Issue 15: within GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL (10 s) a rotated token gets the family's live
    // token back (a lost response, or another process of the client)…
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token).toBe(second.refresh_token);
    const third = await oidc.refreshTokenGrant(config, second.refresh_token!);
    // …an older one too: the live one, so the family keeps a single live token and a later replay is caught.
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token).toBe(third.refresh_token);
    expect((await oidc.refreshTokenGrant(config, third.refresh_token!)).refresh_token).not.toBe(third.refresh_token);
  });

  it('refresh with scope (RFC 6749 §6): a narrower scope narrows that access token only; a wider one is invalid_scope and the token still works', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const tokens = await oidc.authorizationCodeGrant(config, (await approve(flow)).redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid email phone' })).rejects.toMatchObject({ error: 'invalid_scope' });
    const narrow = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'email openid' });
    expect(narrow.scope).toBe('openid email');
    expect(decodeJwt(narrow.access_token)).toMatchObject({ scope: 'openid email' });
    const full = await oidc.refreshTokenGrant(config, narrow.refresh_token!);
    expect(decodeJwt(full.access_token)).toMatchObject({ scope: 'openid email profile offline_access' });
  });

  it.skipIf(!onPostgres)('50 parallel refreshes of one token: no 5xx, one live family (Postgres: PGlite serialises every query)', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const tokens = await oidc.authorizationCodeGrant(config, (await approve(flow)).redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    const basic = `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${t.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: `grant_type=refresh_token&refresh_token=${tokens.refresh_token}` }),
      ),
    );
    expect(results.every((r) => r.status < 500)).toBe(true);
    const live = await t.db.db.selectFrom('refresh_tokens').select(['session_id']).where('revoked', '=', false).where('user_id', '=', flow.user.user.id).execute();
    const oauthSessions = await t.db.db.selectFrom('sessions').select('id').where('oauth_client_id', '=', c.client_id).execute();
    expect(oauthSessions).toHaveLength(1);
    expect(live.filter((r) => r.session_id === oauthSessions[0]!.id)).toHaveLength(1);
  });

  it('ID tokens signed with alg none or HS256 are not accepted by the RP', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const { redirectUrl } = await approve(flow);
    const claims = { iss: ISSUER, sub: flow.user.user.id, aud: c.client_id, nonce: flow.nonce, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 };
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rsaKey.kid }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    for (const forged of [hs256, none]) {
      // A token endpoint that answers with a forged ID token: the RP validates it against our JWKS and refuses.
      const forging: oidc.CustomFetch = async (url, options) => {
        const res = await rewritingFetch(t.url)(url, options);
        if (!url.endsWith('/oauth/token')) return res;
        const body = (await res.json()) as Record<string, unknown>;
        return new Response(JSON.stringify({ ...body, id_token: forged }), { status: res.status, headers: { 'content-type': 'application/json' } });
      };
      const rp = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
      rp[oidc.customFetch] = forging;
      await expect(oidc.authorizationCodeGrant(rp, redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce })).rejects.toThrow();
    }
    // And the server's own JWKS holds no key that would verify them.
    const jwks = createLocalJWKSet((await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as never);
    await expect(jwtVerify(hs256, jwks)).rejects.toThrow();
  });

  it('admin.oauth: list, get, update, regenerate the secret (the old one stops working), delete (its tokens end)', async () => {
    const c = await newClient({ client_name: 'Admin RP' });
    const list = await admin().oauth.listClients();
    expect(list.error).toBeNull();
    expect(list.data!.clients.map((x) => x.client_id)).toContain(c.client_id);
    expect((await admin().oauth.getClient(c.client_id)).data).toMatchObject({ client_id: c.client_id, client_name: 'Admin RP', registration_type: 'manual' });
    expect((await admin().oauth.updateClient(c.client_id, { client_name: 'Renamed' })).data).toMatchObject({ client_name: 'Renamed' });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const tokens = await oidc.authorizationCodeGrant(config, (await approve(flow)).redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });

    const regenerated = await admin().oauth.regenerateClientSecret(c.client_id);
    const secret = (regenerated.data as { client_secret: string }).client_secret;
    expect(secret).not.toBe(c.client_secret);
    expect(await oauthErrorOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toBe('invalid_client');
    const fresh = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(secret));
    const refreshed = await oidc.refreshTokenGrant(fresh, tokens.refresh_token!);

    expect((await admin().oauth.deleteClient(c.client_id)).error).toBeNull();
    expect((await admin().oauth.getClient(c.client_id)).error).toMatchObject({ status: 404, code: 'oauth_client_not_found' });
    const rows = await t.db.db.selectFrom('sessions').select('id').where('oauth_client_id', '=', c.client_id).execute();
    expect(rows).toEqual([]);
    await expect(oidc.fetchUserInfo(fresh, refreshed.access_token, flow.user.user.id)).rejects.toThrow();
  });

  it('resource → aud (RFC 8707), a per-client lifetime, the admin view of grants, and deleting the user ends its tokens', async () => {
    const c = await newClient({ access_token_ttl: 600, refresh_token_ttl: 3600 });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, { resource: RESOURCE });
    const { redirectUrl } = await approve(flow);
    const checks = { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce };
    // The resource sent at the token endpoint must be the one authorized (RFC 8707 §2.2: invalid_target).
    await expect(oidc.authorizationCodeGrant(config, redirectUrl, checks, { resource: 'https://other.example.com' })).rejects.toMatchObject({ error: 'invalid_target' });
    const tokens = await oidc.authorizationCodeGrant(config, redirectUrl, checks);
    expect(tokens.expires_in).toBe(600);
    const access = decodeJwt(tokens.access_token);
    expect(access).toMatchObject({ aud: RESOURCE });
    expect(access.exp! - access.iat!).toBe(600);
    // refresh_token_ttl bounds the session: it stops refreshing an hour after the exchange.
    const session = await t.db.db.selectFrom('sessions').select(['not_after', 'created_at']).where('id', '=', access.session_id as string).executeTakeFirstOrThrow();
    expect(session.not_after!.getTime() - session.created_at!.getTime()).toBe(3_600_000);
    expect(decodeJwt((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token)).toMatchObject({ aud: RESOURCE });

    const userId = flow.user.user.id;
    const grants = await fetch(`${t.url}/admin/users/${userId}/oauth/grants`, { headers: { Authorization: `Bearer ${serviceRoleJwt(t.deps)}` } });
    expect(((await grants.json()) as { client: { id: string } }[]).map((g) => g.client.id)).toEqual([c.client_id]);

    expect((await admin().deleteUser(userId)).error).toBeNull();
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    await expect(oidc.fetchUserInfo(config, tokens.access_token, userId)).rejects.toThrow();
  });

  it('prompt=login and max_age: a sign-in older than the request (or than max_age) goes back as login_required', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const first = await authorize(config, {});
    await approve(first);
    await new Promise((r) => setTimeout(r, 2100)); // AMR timestamps are whole seconds
    for (const params of [{ prompt: 'login' }, { max_age: '1' }] as Record<string, string>[]) {
      const again = await authorize(config, params, first.user);
      const r = await again.gotrue.oauth.getAuthorizationDetails(again.authorizationId);
      const back = new URL((r.data as { redirect_url: string }).redirect_url);
      expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'login_required', state: again.state, iss: ISSUER });
    }
    // Signed in again, the user passes max_age.
    const fresh = await authorize(config, { max_age: '60' }, first.user);
    await fresh.gotrue.signInWithPassword({ email: first.user.email, password: 'correct-horse-battery' });
    const ok = await fresh.gotrue.oauth.getAuthorizationDetails(fresh.authorizationId);
    const params = new URL((ok.data as { redirect_url: string }).redirect_url).searchParams;
    expect([params.get('error'), params.get('code')?.length]).toEqual([null, 43]);
  });

  it('the admin revokes a user\'s grant: the client\'s tokens end', async () => {
    const c = await newClient({});
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await authorize(config, {});
    const tokens = await oidc.authorizationCodeGrant(config, (await approve(flow)).redirectUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
    const r = await fetch(`${t.url}/admin/users/${flow.user.user.id}/oauth/grants?client_id=${c.client_id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${serviceRoleJwt(t.deps)}` } });
    expect(r.status).toBe(204);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The user's own session (the consent page's) is untouched.
    expect((await flow.gotrue.getUser()).error).toBeNull();
  });

  it('dynamic registration (RFC 7591) and both discovery documents', async () => {
    const res = await fetch(`${t.url}/oauth/clients/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'MCP', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' }) });
    expect(res.status).toBe(201);
    const reg = (await res.json()) as Record<string, unknown>;
    expect(reg).toMatchObject({ client_type: 'public', registration_type: 'dynamic', redirect_uris: ['http://127.0.0.1/callback'] });
    // RFC 8252 §7.3: a loopback redirect URI matches on any port.
    const config = await relyingParty(t.url, reg.client_id as string, oidc.None());
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'http://127.0.0.1:53117/callback', scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    expect((await authorizeLocation(t.url, url)).location).toContain(CONSENT_PATH);

    const openid = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const rfc8414 = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(rfc8414).toEqual(openid);
    expect(openid).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      token_endpoint: `${ISSUER}/oauth/token`,
      registration_endpoint: `${ISSUER}/oauth/clients/register`,
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
      authorization_response_iss_parameter_supported: true,
    });
  });
});
