import { createHash, randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, fragmentOf, jsonOf, queryOf } from '../helpers/browser';
import { claimsOf } from '../helpers/flows';
import { startHookReceiver } from '../helpers/hook-receiver';
import { startOidcProvider, type LocalOidcProvider } from '../helpers/oidc-provider';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, startTestServer, uniqueEmail } from '../helpers/test-server';

const PUBLIC = 'http://localhost:9999';
const SITE = 'http://localhost:3000';
const APP_CALLBACK = `${SITE}/app-callback`;
let op: LocalOidcProvider;

const client = (id: string, auth: 'client_secret_post' | 'client_secret_basic'): ClientMetadata => ({
  client_id: id,
  client_secret: `${id}-secret`,
  redirect_uris: [`${PUBLIC}/callback`, APP_CALLBACK],
  token_endpoint_auth_method: auth,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
});

beforeAll(async () => {
  op = await startOidcProvider([client('gotrue-kc', 'client_secret_post'), client('gotrue-google', 'client_secret_post'), client('gotrue-acme', 'client_secret_basic')], {});
});
afterAll(() => op.close());
const server = useTestApp({
  // The mail catcher receives the identity linked/unlinked notifications; sign-ups stay autoconfirmed.
  mail: true,
  env: () => ({
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_MAILER_NOTIFICATIONS_IDENTITY_LINKED_ENABLED: 'true',
    GOTRUE_MAILER_NOTIFICATIONS_IDENTITY_UNLINKED_ENABLED: 'true',
    GOTRUE_EXTERNAL_KEYCLOAK_ENABLED: 'true',
    GOTRUE_EXTERNAL_KEYCLOAK_CLIENT_ID: 'gotrue-kc',
    GOTRUE_EXTERNAL_KEYCLOAK_SECRET: 'gotrue-kc-secret',
    GOTRUE_EXTERNAL_KEYCLOAK_URL: op.issuer,
    GOTRUE_EXTERNAL_GOOGLE_ENABLED: 'true',
    GOTRUE_EXTERNAL_GOOGLE_CLIENT_ID: 'gotrue-google',
    GOTRUE_EXTERNAL_GOOGLE_SECRET: 'gotrue-google-secret',
    GOTRUE_EXTERNAL_GOOGLE_URL: op.issuer,
    GOTRUE_EXTERNAL_CUSTOM_ACME_ENABLED: 'true',
    GOTRUE_EXTERNAL_CUSTOM_ACME_ISSUER: op.issuer,
    GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_ID: 'gotrue-acme',
    GOTRUE_EXTERNAL_CUSTOM_ACME_SECRET: 'gotrue-acme-secret',
    GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_AUTH: 'basic',
    GOTRUE_EXTERNAL_CUSTOM_ACME_SCOPES: 'email profile',
    GOTRUE_EXTERNAL_CUSTOM_ACME_AUTHORIZATION_PARAMS: 'prompt=consent',
    GOTRUE_EXTERNAL_CUSTOM_ACME_CUSTOM_CLAIMS_ALLOWLIST: 'email_verified',
    GOTRUE_SECURITY_MANUAL_LINKING_ENABLED: 'true',
    GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
  }),
});
const { db } = server;

/** A new OP account with a verified (or not) email; the dev login is the account id. */
function account(verified = true) {
  const id = `u${randomBytes(5).toString('hex')}`;
  op.accounts[id] = { email: uniqueEmail(id), email_verified: verified, name: `User ${id}` };
  return id;
}
const browser = (login: string) => new Browser({ [PUBLIC]: server.url }, login);
const atSite = (u: string) => u.startsWith(SITE);
const pkceClient = () => server.client('pkce');

/** An id_token as a native app would get it from the provider for our Google client id. */
async function idTokenFor(login: string, nonce?: string, clientId = 'gotrue-google') {
  const authz = new URL(`${op.issuer}/auth`);
  Object.entries({ client_id: clientId, redirect_uri: APP_CALLBACK, response_type: 'code', scope: 'openid email profile', state: 'app', ...(nonce ? { nonce } : {}) }).forEach(([k, v]) => authz.searchParams.set(k, v));
  const code = queryOf(await browser(login).navigate(authz.href, atSite)).code!;
  const res = await fetch(`${op.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: APP_CALLBACK, client_id: clientId, client_secret: `${clientId}-secret` }),
  });
  const body = await jsonOf(res);
  return body.id_token as string;
}
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe(`OpenID providers against a local oidc-provider (${dbKind})`, () => {
  it('Keycloak with PKCE: auth-js signInWithOAuth → provider login and consent → exchangeCodeForSession', async () => {
    const login = account();
    const auth = pkceClient();
    const { data } = await auth.signInWithOAuth({ provider: 'keycloak', options: { redirectTo: `${SITE}/cb`, skipBrowserRedirect: true } });
    const landed = await browser(login).navigate(data.url!, atSite);
    const { data: s, error } = await auth.exchangeCodeForSession(queryOf(landed).code!);
    expect(error).toBeNull();
    expect(s.user?.email).toBe(op.accounts[login]!.email);
    expect(s.user?.identities?.[0]).toMatchObject({ provider: 'keycloak', id: login });
    expect(s.user?.identities?.[0]?.identity_data).toMatchObject({ iss: op.issuer, sub: login, name: `User ${login}`, email_verified: true });
    expect(s.session?.provider_token).toBeTruthy();
    expect(s.session?.provider_refresh_token).toBeTruthy();
    // The flow row held the provider tokens sealed until the exchange, and the vault keeps them sealed.
    const row = await db.db.selectFrom('provider_tokens').selectAll().where('user_id', '=', s.user!.id).executeTakeFirstOrThrow();
    expect(row.access_token).toMatch(/^vault:v1:k1:/);
    expect(row.access_token).not.toContain(s.session!.provider_token!);
    expect(row.refresh_token).toMatch(/^vault:v1:k1:/);
  });

  it('Keycloak implicit flow: the session in the fragment', async () => {
    const login = account();
    const landed = await browser(login).navigate(`${server.url}/authorize?provider=keycloak&redirect_to=${encodeURIComponent(`${SITE}/in`)}`, atSite);
    const f = fragmentOf(landed);
    expect(claimsOf(f.access_token!).email).toBe(op.accounts[login]!.email);
    expect(f.provider_token).toBeTruthy();
  });

  it('auto-links a second provider with the same verified email to the same user', async () => {
    const login = account();
    const kc = fragmentOf(await browser(login).navigate(`${server.url}/authorize?provider=keycloak`, atSite));
    const g = fragmentOf(await browser(login).navigate(`${server.url}/authorize?provider=google`, atSite));
    expect(claimsOf(g.access_token!).sub).toBe(claimsOf(kc.access_token!).sub);
    expect((claimsOf(g.access_token!).app_metadata as { providers: string[] }).providers).toEqual(['keycloak', 'google']);
  });

  it('a generic OIDC provider configured by env (custom:acme, Basic client auth, extra authorize params)', async () => {
    const login = account();
    const b = browser(login);
    const first = await b.request(`${server.url}/authorize?provider=custom:acme`);
    const upstream = new URL(first.headers.get('location')!);
    expect(upstream.searchParams.get('prompt')).toBe('consent');
    expect(upstream.searchParams.get('scope')).toBe('openid email profile');
    expect(upstream.searchParams.get('nonce')).toBeTruthy();
    const f = fragmentOf(await b.navigate(upstream.href, atSite));
    const me = await jsonOf(fetch(`${server.url}/user`, { headers: { Authorization: `Bearer ${f.access_token}` } }));
    expect(me.identities[0]).toMatchObject({ provider: 'custom:acme', id: login });
    expect(me.identities[0].identity_data.custom_claims).toEqual({ email_verified: true });
  });

  it('manual linking and unlinking through auth-js linkIdentity / unlinkIdentity', async () => {
    const auth = pkceClient();
    const email = uniqueEmail('linker');
    expect((await auth.signUp({ email, password: 'pass-word-1' })).error).toBeNull();
    const login = account();
    const { data, error } = await auth.linkIdentity({ provider: 'custom:acme' as 'google', options: { redirectTo: `${SITE}/linked`, skipBrowserRedirect: true } });
    expect(error).toBeNull();
    const landed = await browser(login).navigate(data.url!, atSite);
    const exchanged = await auth.exchangeCodeForSession(queryOf(landed).code!);
    expect(exchanged.error).toBeNull();
    expect(exchanged.data.user?.email).toBe(email);
    const identities = exchanged.data.user!.identities!;
    expect(identities.map((i) => i.provider).sort()).toEqual(['custom:acme', 'email']);
    const linkedMail = await server.mail.next(email);
    expect(linkedMail.subject).toBe('A new sign-in method was linked to your account');
    expect(linkedMail.text).toContain(`Your custom:acme account was linked as a new sign-in method for ${email}.`);

    // The same provider identity cannot be linked again.
    const again = await auth.linkIdentity({ provider: 'custom:acme' as 'google', options: { redirectTo: `${SITE}/linked`, skipBrowserRedirect: true } });
    const refused = await browser(login).navigate(again.data.url!, atSite);
    expect(queryOf(refused)).toMatchObject({ error: 'server_error', error_code: 'identity_already_exists' });

    const acme = identities.find((i) => i.provider === 'custom:acme')!;
    expect((await auth.unlinkIdentity(acme)).error).toBeNull();
    expect((await server.mail.next(email)).subject).toBe('A sign-in method was removed from your account');
    const left = (await auth.getUser()).data.user!;
    expect(left.identities!.map((i) => i.provider)).toEqual(['email']);
    expect(left.app_metadata.providers).toEqual(['email']);
    const last = await auth.unlinkIdentity(left.identities![0]!);
    expect(last.error?.code).toBe('single_identity_not_deletable');
  });

  it('signs in with an id_token issued by the provider, with and without nonce', async () => {
    const login = account();
    const raw = randomBytes(16).toString('hex');
    const auth = pkceClient();
    const withNonce = await auth.signInWithIdToken({ provider: 'google', token: await idTokenFor(login, sha256hex(raw)), nonce: raw });
    expect(withNonce.error).toBeNull();
    expect(withNonce.data.user?.email).toBe(op.accounts[login]!.email);
    expect((claimsOf(withNonce.data.session!.access_token).amr as { method: string }[])[0]!.method).toBe('oauth');

    const without = await pkceClient().signInWithIdToken({ provider: 'google', token: await idTokenFor(login) });
    expect(without.error).toBeNull();
    expect(without.data.user?.id).toBe(withNonce.data.user?.id);

    const keycloak = await pkceClient().signInWithIdToken({ provider: 'keycloak', token: await idTokenFor(login, undefined, 'gotrue-kc') });
    expect(keycloak.data.user?.id).toBe(withNonce.data.user?.id);
  });

  it('id_token sign-ups go through the before/after user created hooks; a refusal creates nothing', async () => {
    const receiver = await startHookReceiver();
    const hooked = await startTestServer(db, {
      GOTRUE_EXTERNAL_GOOGLE_ENABLED: 'true',
      GOTRUE_EXTERNAL_GOOGLE_CLIENT_ID: 'gotrue-google',
      GOTRUE_EXTERNAL_GOOGLE_SECRET: 'gotrue-google-secret',
      GOTRUE_EXTERNAL_GOOGLE_URL: op.issuer,
      GOTRUE_HOOK_BEFORE_USER_CREATED_ENABLED: 'true',
      GOTRUE_HOOK_BEFORE_USER_CREATED_URI: `${receiver.url}/before`,
      GOTRUE_HOOK_BEFORE_USER_CREATED_SECRETS: receiver.secret,
      GOTRUE_HOOK_AFTER_USER_CREATED_ENABLED: 'true',
      GOTRUE_HOOK_AFTER_USER_CREATED_URI: `${receiver.url}/after`,
      GOTRUE_HOOK_AFTER_USER_CREATED_SECRETS: receiver.secret,
    });
    try {
      const post = (token: string) =>
        fetch(`${hooked.url}/token?grant_type=id_token`, { method: 'POST', headers: { 'content-type': 'application/json', ...API_VERSION }, body: JSON.stringify({ provider: 'google', id_token: token }) });
      const refused = account();
      receiver.answer('/before', () => ({ status: 200, body: { error: { http_code: 403, message: 'Not on the guest list' } } }));
      const no = await post(await idTokenFor(refused));
      expect(no.status).toBe(403);
      expect(await jsonOf(no)).toEqual({ code: 'unknown', message: 'Not on the guest list' });
      const email = op.accounts[refused]!.email!;
      expect(await db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(0);
      expect((receiver.callsTo('/before')[0]!.body.user as { email: string }).email).toBe(email);

      receiver.answer('/before', () => ({ status: 204 }));
      const yes = await jsonOf(await post(await idTokenFor(refused)));
      const before = receiver.callsTo('/before').at(-1)!.body.user as { id: string };
      const after = receiver.callsTo('/after').at(-1)!.body.user as { id: string; identities: unknown[] };
      expect((yes.user as { id: string }).id).toBe(before.id);
      expect(after.id).toBe(before.id);
      // A second sign-in creates nothing: no hook call.
      const calls = receiver.calls.length;
      expect((await post(await idTokenFor(refused))).status).toBe(200);
      expect(receiver.calls.length).toBe(calls);
    } finally {
      await hooked.close();
      await receiver.close();
    }
  });

  it('links an id_token identity to the signed-in user (link_identity)', async () => {
    const auth = pkceClient();
    expect((await auth.signUp({ email: uniqueEmail('idlink'), password: 'pass-word-1' })).error).toBeNull();
    const login = account(false);
    const linked = await auth.linkIdentity({ provider: 'google', token: await idTokenFor(login) });
    expect(linked.error).toBeNull();
    expect(linked.data.user?.identities?.map((i) => i.provider).sort()).toEqual(['email', 'google']);
  });

  it.each([
    ['no body', undefined, 'invalid request'],
    ['no id_token', { provider: 'google' }, 'invalid request'],
    ['no provider', { id_token: 'x' }, 'invalid request'],
    ['an unknown provider', { id_token: 'x', provider: 'myspace' }, 'invalid request'],
    ['a provider without id_token support', { id_token: 'x', provider: 'custom:nope' }, 'invalid request'],
    ['a malformed token', { id_token: 'not.a.jwt', provider: 'google' }, 'invalid request'],
    ['a non-string id_token', { id_token: 42, provider: 'google' }, 'invalid request'],
  ])('grant_type=id_token answers %s with 400', async (_n, body, error) => {
    const res = await fetch(`${server.url}/token?grant_type=id_token`, { method: 'POST', headers: { 'content-type': 'application/json', ...API_VERSION }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status).toBe(400);
    const json = await jsonOf(res);
    expect(json.error).toBe(error);
    expect(json.error_description).toEqual(expect.any(String));
    expect(res.headers.get('x-sb-error-code')).toBeTruthy();
  });

  it('refuses a nonce mismatch, a nonce on one side only, and a token for another audience', async () => {
    const login = account();
    const post = (body: object) => fetch(`${server.url}/token?grant_type=id_token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const token = await idTokenFor(login, sha256hex('right'));
    expect((await jsonOf(post({ provider: 'google', id_token: token, nonce: 'wrong' }))).error_description).toMatch(/Nonces mismatch/);
    expect((await jsonOf(post({ provider: 'google', id_token: token }))).error_description).toMatch(/both exist or not/);
    const other = await idTokenFor(login, undefined, 'gotrue-acme');
    const res = await post({ provider: 'google', id_token: other });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error_description).toMatch(/aud claim is invalid/);
  });
});

describe(`/user/identities (${dbKind})`, () => {
  it.each([
    ['no Bearer', 'GET', '/user/identities/authorize?provider=google', undefined, 401, 'no_authorization'],
    ['a non-UUID identity id', 'DELETE', '/user/identities/abc', 'user', 404, 'validation_failed'],
    ['an identity of someone else', 'DELETE', '/user/identities/8f0c6a43-1d8e-4f4e-9b7c-0a5f2f1d3e21', 'user', 422, 'single_identity_not_deletable'],
    ['an unknown provider', 'GET', '/user/identities/authorize?provider=nope&skip_http_redirect=true', 'user', 400, 'validation_failed'],
  ])('answers %s', async (_n, method, path, who, status, code) => {
    let headers: Record<string, string> = { ...API_VERSION };
    if (who) {
      const s = await pkceClient().signUp({ email: uniqueEmail('ids'), password: 'pass-word-1' });
      headers = { ...headers, Authorization: `Bearer ${s.data.session!.access_token}` };
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, redirect: 'manual' });
    expect(res.status).toBe(status);
    expect((await jsonOf(res)).code).toBe(code);
  });

  it('are 404 manual_linking_disabled when manual linking is off', async () => {
    const off = await startTestServer(db);
    try {
      for (const [method, path] of [['GET', '/user/identities/authorize?provider=google'], ['DELETE', '/user/identities/8f0c6a43-1d8e-4f4e-9b7c-0a5f2f1d3e21']] as const) {
        const res = await fetch(`${off.url}${path}`, { method, headers: API_VERSION });
        expect([res.status, (await jsonOf(res)).code]).toEqual([404, 'manual_linking_disabled']);
      }
    } finally {
      await off.close();
    }
  });
});
