import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeJwt, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoTrueAdminApi } from '@supabase/auth-js';
import { totpCodeAt } from '../../src/crypto/totp';
import { useTestApp } from '../helpers/test-app';
import { serviceRoleJwt } from '../helpers/tokens';
import { dbKind } from '../helpers/test-db';
import { TEST_JWT_SECRET } from '../helpers/test-server';
import { authorizeLocation, ISSUER, oauthEnv, relyingParty, rsaKey, signedInUser } from '../helpers/oauth-server';

/** Issue 15 items 3 and 6: MFA required per client; RP-initiated and back-channel logout. */

const t = useTestApp({ listen: true, env: oauthEnv(), overrides: { backchannelLogout: { retries: 2, backoffMs: 20, timeoutMs: 2000 } } });
const REDIRECT = 'https://rp.example.com/callback';
const BYE = 'https://rp.example.com/bye';
const admin = () => new GoTrueAdminApi({ url: `${t.url}/auth/v1`, headers: { Authorization: `Bearer ${serviceRoleJwt(t.deps)}`, apikey: 'x' } });
const adminHeaders = () => ({ Authorization: `Bearer ${serviceRoleJwt(t.deps)}`, 'content-type': 'application/json' });

/** A client's back-channel logout endpoint: records every POST; answers 503 to the first `failFirst` of them. */
let listener: Server;
let listenerUrl = '';
const received: { contentType: string | undefined; body: string; status: number }[] = [];
let failFirst = 0;
beforeAll(async () => {
  listener = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = failFirst > 0 ? 503 : 200;
      if (failFirst > 0) failFirst--;
      received.push({ contentType: req.headers['content-type'], body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/backchannel`;
});
afterAll(() => new Promise<void>((r) => listener.close(() => r())));

async function newClient(body: Record<string, unknown>) {
  const { data, error } = await admin().oauth.createClient({ client_name: 'RP', redirect_uris: [REDIRECT], ...body } as never);
  if (error || !data) throw error ?? new Error('no client');
  return data as typeof data & { client_secret?: string; require_mfa?: boolean; backchannel_logout_uri?: string; post_logout_redirect_uris?: string[] };
}

/** authorize → consent page id; the caller signs the user in. */
async function startAuthorization(config: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra });
  const r = await authorizeLocation(t.url, url);
  return { verifier, state, nonce, authorizationId: new URL(r.location!).searchParams.get('authorization_id')! };
}

/** A user signed in, through the RP to its tokens (ID token included). */
async function signInThrough(config: oidc.Configuration) {
  const flow = await startAuthorization(config);
  const gotrue = t.client();
  const u = await signedInUser(gotrue);
  await gotrue.setSession({ access_token: u.session.access_token, refresh_token: u.session.refresh_token });
  await gotrue.oauth.getAuthorizationDetails(flow.authorizationId);
  const approved = await gotrue.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true });
  expect(approved.error).toBeNull();
  const tokens = await oidc.authorizationCodeGrant(config, new URL(approved.data!.redirect_url), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
  return { tokens, user: u, gotrue };
}

/** Waits until the listener has `n` requests (deliveries run in the background). */
async function receivedAtLeast(n: number) {
  for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(received.length).toBeGreaterThanOrEqual(n);
}

async function verifiedLogoutToken(body: string) {
  const token = new URLSearchParams(body).get('logout_token')!;
  const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, algorithms: ['RS256'] });
  return payload;
}

const logout = (params: Record<string, string>, method: 'GET' | 'POST' = 'GET') => {
  const qs = new URLSearchParams(params).toString();
  return method === 'GET'
    ? fetch(`${t.url}/oauth/logout?${qs}`, { redirect: 'manual' })
    : fetch(`${t.url}/oauth/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs });
};

describe(`OAuth server: MFA per client, RP-initiated and back-channel logout (${dbKind})`, () => {
  it('require_mfa: no factor → mfa_enrollment_required; a factor but aal1 → insufficient_aal; after the challenge the code carries acr aal2 and amr totp', async () => {
    const c = await newClient({ require_mfa: true });
    expect(c.require_mfa).toBe(true);
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const flow = await startAuthorization(config);

    const first = t.client();
    const u = await signedInUser(first);
    const noFactor = await first.oauth.getAuthorizationDetails(flow.authorizationId);
    expect([noFactor.error?.status, (noFactor.error as { code?: string } | null)?.code]).toEqual([403, 'mfa_enrollment_required']);
    const noFactorApprove = await first.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true });
    expect((noFactorApprove.error as { code?: string } | null)?.code).toBe('mfa_enrollment_required');

    // The user adds a TOTP factor (that session becomes aal2), then signs in anew elsewhere: aal1 with a factor.
    const enrolled = await first.mfa.enroll({ factorType: 'totp', friendlyName: 'app' });
    const { id: factorId, totp } = enrolled.data as { id: string; totp: { secret: string } };
    expect((await first.mfa.challengeAndVerify({ factorId, code: totpCodeAt(totp.secret, new Date()) })).error).toBeNull();
    const second = t.client();
    expect((await second.signInWithPassword({ email: u.email, password: 'correct-horse-battery' })).error).toBeNull();
    const aal1 = await second.oauth.getAuthorizationDetails(flow.authorizationId);
    expect([aal1.error?.status, (aal1.error as { code?: string } | null)?.code]).toEqual([403, 'insufficient_aal']);
    expect((await second.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true })).error?.code).toBe('insufficient_aal');

    // The consent page runs the challenge (the next TOTP step: the first one is spent) and retries the same request.
    expect((await second.mfa.challengeAndVerify({ factorId, code: totpCodeAt(totp.secret, new Date(Date.now() + 30_000)) })).error).toBeNull();
    const details = await second.oauth.getAuthorizationDetails(flow.authorizationId);
    expect(details.error).toBeNull();
    const approved = await second.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true });
    expect(approved.error).toBeNull();
    const tokens = await oidc.authorizationCodeGrant(config, new URL(approved.data!.redirect_url), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('aal2');
    expect(claims.amr).toEqual(expect.arrayContaining(['totp', 'password']));

    // Turning the setting off (admin update) lets an aal1 session through again.
    const off = await fetch(`${t.url}/admin/oauth/clients/${c.client_id}`, { method: 'PUT', headers: adminHeaders(), body: JSON.stringify({ require_mfa: false }) });
    expect(((await off.json()) as { require_mfa: boolean }).require_mfa).toBe(false);
    const plain = await signInThrough(config);
    expect(plain.tokens.claims()!.acr).toBe('aal1');
  });

  it('default_max_age: a request without max_age needs a sign-in that recent, else login_required; a request\'s max_age wins', async () => {
    const c = await newClient({ default_max_age: 1 });
    expect(c).toMatchObject({ default_max_age: 1 });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const gotrue = t.client();
    await signedInUser(gotrue);
    await new Promise((r) => setTimeout(r, 1100));
    const flow = await startAuthorization(config);
    const view = await gotrue.oauth.getAuthorizationDetails(flow.authorizationId);
    const back = new URL((view.data as { redirect_url: string }).redirect_url);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'login_required', state: flow.state });
    // A request's own max_age wins over the default: the same sign-in is recent enough for max_age=3600.
    const explicit = await startAuthorization(config, { max_age: '3600' });
    expect((await gotrue.oauth.getAuthorizationDetails(explicit.authorizationId)).data).toHaveProperty('authorization_id');
  });

  it('RP-initiated logout: discovery, id_token_hint names the session; it ends, the browser returns with state, and the client hears it by back-channel (retried)', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ end_session_endpoint: `${ISSUER}/oauth/logout`, backchannel_logout_supported: true, backchannel_logout_session_supported: true });

    const c = await newClient({ post_logout_redirect_uris: [BYE], backchannel_logout_uri: listenerUrl });
    expect(c).toMatchObject({ post_logout_redirect_uris: [BYE], backchannel_logout_uri: listenerUrl });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const { tokens, user } = await signInThrough(config);
    const sid = tokens.claims()!.sid as string;
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);

    received.length = 0;
    failFirst = 1;
    const endUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE, state: 'st-1' });
    const res = await fetch(endUrl.href.replace(ISSUER, t.url), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${BYE}?state=st-1`);
    await oidc.refreshTokenGrant(config, tokens.refresh_token!).then(
      () => expect.unreachable('the session should have ended'),
      (e: { error?: string }) => expect(e.error).toBe('invalid_grant'),
    );

    await receivedAtLeast(2);
    expect(received.map((r) => r.status)).toEqual([503, 200]);
    expect(received[1]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(received[0]!.body).toBe(received[1]!.body);
    const lt = await verifiedLogoutToken(received[1]!.body);
    expect(lt).toMatchObject({ iss: ISSUER, aud: c.client_id, sub: user.user.id, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    expect(typeof lt.jti).toBe('string');
    expect(typeof lt.iat).toBe('number');
    expect(lt).not.toHaveProperty('nonce');

    // Again with the same hint (POST this time): nothing left to end, no new delivery, still a redirect.
    const again = await logout({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE }, 'POST');
    expect([again.status, again.headers.get('location'), again.status === 302 ? '' : await again.text()]).toEqual([302, BYE, '']);
    await t.deps.backchannelLogout.idle();
    expect(received).toHaveLength(2);
  });

  it('back-channel logout on revocation, on the user\'s own /logout, when the admin deletes the user and when the user revokes the grant', async () => {
    const c = await newClient({ backchannel_logout_uri: listenerUrl });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const sidOf = async (body: string) => (await verifiedLogoutToken(body)).sid;

    received.length = 0;
    const a = await signInThrough(config);
    await oidc.tokenRevocation(config, a.tokens.refresh_token!);
    await receivedAtLeast(1);
    expect(await sidOf(received[0]!.body)).toBe(a.tokens.claims()!.sid);

    const b = await signInThrough(config);
    expect((await b.gotrue.signOut({ scope: 'global' })).error).toBeNull();
    await receivedAtLeast(2);
    expect(await sidOf(received[1]!.body)).toBe(b.tokens.claims()!.sid);

    const d = await signInThrough(config);
    expect((await admin().deleteUser(d.user.user.id)).error).toBeNull();
    await receivedAtLeast(3);
    expect(await sidOf(received[2]!.body)).toBe(d.tokens.claims()!.sid);

    const e = await signInThrough(config);
    expect((await e.gotrue.oauth.revokeGrant({ clientId: c.client_id })).error).toBeNull();
    await receivedAtLeast(4);
    expect(await sidOf(received[3]!.body)).toBe(e.tokens.claims()!.sid);
    await t.deps.backchannelLogout.idle();
    expect(received).toHaveLength(4);
  });

  it('back-channel logout whenever the session ends some other way: a new password, an admin password change, the sessions API, a reused code, an MFA verification ending aal1 sessions', async () => {
    const c = await newClient({ backchannel_logout_uri: listenerUrl });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const sidOf = async (i: number) => (await verifiedLogoutToken(received[i]!.body)).sid;
    received.length = 0;

    // PUT /user with a new password ends the user's other sessions, the client's among them.
    const a = await signInThrough(config);
    expect((await a.gotrue.updateUser({ password: 'a-new-Passw0rd!' })).error).toBeNull();
    await receivedAtLeast(1);
    expect(await sidOf(0)).toBe(a.tokens.claims()!.sid);

    // An admin setting the password ends every session.
    const b = await signInThrough(config);
    expect((await admin().updateUserById(b.user.user.id, { password: 'another-Passw0rd!' })).error).toBeNull();
    await receivedAtLeast(2);
    expect(await sidOf(1)).toBe(b.tokens.claims()!.sid);

    // DELETE /admin/users/{id}/sessions.
    const d = await signInThrough(config);
    expect((await fetch(`${t.url}/admin/users/${d.user.user.id}/sessions`, { method: 'DELETE', headers: adminHeaders() })).status).toBeLessThan(300);
    await receivedAtLeast(3);
    expect(await sidOf(2)).toBe(d.tokens.claims()!.sid);

    // A second exchange of one authorization code ends the session the first one started.
    const flow = await startAuthorization(config);
    const gotrue = t.client();
    const u = await signedInUser(gotrue);
    await gotrue.setSession({ access_token: u.session.access_token, refresh_token: u.session.refresh_token });
    await gotrue.oauth.getAuthorizationDetails(flow.authorizationId);
    const approved = await gotrue.oauth.approveAuthorization(flow.authorizationId, { skipBrowserRedirect: true });
    const callback = new URL(approved.data!.redirect_url);
    const first = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce })).rejects.toThrow();
    await receivedAtLeast(4);
    expect(await sidOf(3)).toBe(first.claims()!.sid);

    // The user verifies a factor in their own (first-party) session: their aal1 sessions end (GoTrue's
    // InvalidateSessionsWithAALLessThan), the client's among them.
    const e = await signInThrough(config);
    const enrolled = await e.gotrue.mfa.enroll({ factorType: 'totp', friendlyName: 'phone' });
    const { id: factorId, totp } = enrolled.data as { id: string; totp: { secret: string } };
    expect((await e.gotrue.mfa.challengeAndVerify({ factorId, code: totpCodeAt(totp.secret, new Date()) })).error).toBeNull();
    await receivedAtLeast(5);
    expect(await sidOf(4)).toBe(e.tokens.claims()!.sid);

    await t.deps.backchannelLogout.idle();
    expect(received).toHaveLength(5);
  });

  it('refuses bad logout requests without redirecting or ending the session', async () => {
    const c = await newClient({ post_logout_redirect_uris: [BYE] });
    const other = await newClient({ post_logout_redirect_uris: ['https://other.example.com/bye'] });
    const config = await relyingParty(t.url, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
    const { tokens } = await signInThrough(config);
    const hint = tokens.id_token!;
    const claims = decodeJwt(hint);

    const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', kid: rsaKey.kid }).sign(strangerKey);
    const hs = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const rsa = (await import('node:crypto')).createPrivateKey({ key: rsaKey, format: 'jwk' });
    const foreignIssuer = await new SignJWT({ ...claims, iss: 'https://evil.example.com' }).setProtectedHeader({ alg: 'RS256', kid: rsaKey.kid }).sign(rsa);
    const unknownClient = await new SignJWT({ ...claims, aud: '00000000-0000-4000-8000-000000000000' }).setProtectedHeader({ alg: 'RS256', kid: rsaKey.kid }).sign(rsa);
    const accessAsHint = tokens.access_token;

    const cases: [string, Record<string, string> | string, string | null][] = [
      ['no id_token_hint', {}, 'oauth_invalid_request'],
      ['not a JWT', { id_token_hint: 'not-a-jwt' }, 'oauth_invalid_id_token_hint'],
      ['signed by another key', { id_token_hint: forged }, 'oauth_invalid_id_token_hint'],
      ['HS256 with the JWT secret', { id_token_hint: hs }, 'oauth_invalid_id_token_hint'],
      ['another issuer', { id_token_hint: foreignIssuer }, 'oauth_invalid_id_token_hint'],
      ['an unknown client as audience', { id_token_hint: unknownClient }, 'oauth_invalid_id_token_hint'],
      ['an access token', { id_token_hint: accessAsHint }, 'oauth_invalid_id_token_hint'],
      ['unregistered post_logout_redirect_uri', { id_token_hint: hint, post_logout_redirect_uri: 'https://evil.example.com/bye' }, 'oauth_invalid_request'],
      ["another client's post_logout_redirect_uri", { id_token_hint: hint, post_logout_redirect_uri: 'https://other.example.com/bye' }, 'oauth_invalid_request'],
      ['client_id not the audience', { id_token_hint: hint, client_id: other.client_id }, 'oauth_invalid_request'],
      ['repeated id_token_hint', `id_token_hint=${hint}&id_token_hint=${hint}`, 'oauth_invalid_request'],
      ['over-long state', { id_token_hint: hint, state: 'x'.repeat(5000) }, 'oauth_invalid_request'],
    ];
    for (const [name, params, code] of cases) {
      const res = typeof params === 'string' ? await fetch(`${t.url}/oauth/logout?${params}`, { redirect: 'manual' }) : await logout(params);
      expect([name, res.status, res.headers.get('location'), res.headers.get('x-sb-error-code')]).toEqual([name, 400, null, code]);
      expect(((await res.json()) as { error?: string }).error, name).toBe('invalid_request');
    }
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true });

    // Without a post_logout_redirect_uri: 200 {} and the session ends.
    const ok = await logout({ id_token_hint: hint });
    expect([ok.status, await ok.json()]).toEqual([200, {}]);
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
  });

  it('client settings: invalid require_mfa, post_logout_redirect_uris and backchannel_logout_uri are 400; dynamic registration takes https back-channel URIs only', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['require_mfa not a boolean', { require_mfa: 'yes' }],
      ['post_logout_redirect_uris not a list', { post_logout_redirect_uris: BYE }],
      ['post_logout_redirect_uri with a fragment', { post_logout_redirect_uris: [`${BYE}#x`] }],
      ['post_logout_redirect_uri over http', { post_logout_redirect_uris: ['http://rp.example.com/bye'] }],
      ['backchannel_logout_uri relative', { backchannel_logout_uri: '/bc' }],
      ['backchannel_logout_uri ftp', { backchannel_logout_uri: 'ftp://rp.example.com/bc' }],
      ['backchannel_logout_uri with a fragment', { backchannel_logout_uri: 'https://rp.example.com/bc#f' }],
      ['backchannel_logout_uri over http, not loopback', { backchannel_logout_uri: 'http://rp.example.com/bc' }],
      ['backchannel_logout_uri not a string', { backchannel_logout_uri: 7 }],
      ['default_max_age negative', { default_max_age: -1 }],
      ['default_max_age fractional', { default_max_age: 1.5 }],
      ['default_max_age a string', { default_max_age: '60' }],
    ];
    for (const [name, extra] of cases) {
      const res = await fetch(`${t.url}/admin/oauth/clients`, { method: 'POST', headers: adminHeaders(), body: JSON.stringify({ redirect_uris: [REDIRECT], ...extra }) });
      expect([name, res.status, res.headers.get('x-sb-error-code')]).toEqual([name, 400, 'validation_failed']);
    }
    const dyn = (body: Record<string, unknown>) =>
      fetch(`${t.url}/oauth/clients/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], ...body }) });
    expect((await dyn({ backchannel_logout_uri: listenerUrl })).status).toBe(400);
    // A dynamic registrant cannot aim the server's POSTs at internal addresses, https or not.
    for (const internal of ['https://127.0.0.1/bc', 'https://localhost/bc', 'https://10.1.2.3/bc', 'https://192.168.0.5/bc', 'https://169.254.169.254/latest', 'https://[::1]/bc', 'https://[fd00::1]/bc', 'https://[::ffff:10.0.0.1]/bc']) {
      const res = await dyn({ backchannel_logout_uri: internal });
      expect([internal, res.status]).toEqual([internal, 400]);
    }
    const reg = await dyn({ backchannel_logout_uri: 'https://rp.example.com/bc', require_mfa: true, post_logout_redirect_uris: [BYE] });
    expect(reg.status).toBe(201);
    expect(await reg.json()).toMatchObject({ require_mfa: true, backchannel_logout_uri: 'https://rp.example.com/bc', post_logout_redirect_uris: [BYE] });
  });
});
