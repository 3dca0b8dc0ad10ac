import { apiKeyJwt, serviceRoleJwt } from '../helpers/tokens';
import { GoTrueAdminApi } from '@supabase/auth-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, fragmentOf, jsonOf } from '../helpers/browser';
import { claimsOf } from '../helpers/flows';
import { GithubStandIn } from '../helpers/github-stand-in';
import { startOidcProvider, type LocalOidcProvider } from '../helpers/oidc-provider';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, startTestServer, uniqueEmail } from '../helpers/test-server';

const PUBLIC = 'http://localhost:9999';
const SITE = 'http://localhost:3000';
const gh = new GithubStandIn('plain-client', 'plain-secret');
let op: LocalOidcProvider;
let admin: GoTrueAdminApi;

beforeAll(async () => {
  await gh.start();
  op = await startOidcProvider(
    [{ client_id: 'corp', client_secret: 'corp-secret', redirect_uris: [`${PUBLIC}/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    { emp1: { email: uniqueEmail('emp'), email_verified: true, name: 'Employee One' } },
  );
});
afterAll(async () => {
  await gh.close();
  await op.close();
});
const server = useTestApp({
  listen: true,
  env: () => ({
    GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k:${Buffer.alloc(32, 4).toString('base64')}`,
    GOTRUE_EXTERNAL_CUSTOM_ENVONE_ENABLED: 'true',
    GOTRUE_EXTERNAL_CUSTOM_ENVONE_ISSUER: op.issuer,
    GOTRUE_EXTERNAL_CUSTOM_ENVONE_CLIENT_ID: 'corp',
  }),
});
const { db } = server;
beforeAll(() => {
  admin = new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { Authorization: `Bearer ${serviceRoleJwt(server.deps)}` } });
});

describe(`/admin/custom-providers (${dbKind})`, () => {
  it('creates a plain OAuth2 provider that users then sign in with (provider=custom:<name>)', async () => {
    const { data, error } = await admin.customProviders.createProvider({
      provider_type: 'oauth2',
      identifier: 'custom:plain',
      name: 'Plain OAuth2',
      client_id: 'plain-client',
      client_secret: 'plain-secret',
      authorization_url: `${gh.url}/login/oauth/authorize`,
      token_url: `${gh.url}/login/oauth/access_token`,
      userinfo_url: `${gh.url}/api/v3/user`,
      scopes: ['read:user'],
      pkce_enabled: true,
      attribute_mapping: { sub: 'id', user_name: 'login' },
      authorization_params: { allow_signup: 'false' },
      ...{ client_auth: 'post' },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ identifier: 'custom:plain', provider_type: 'oauth2', client_id: 'plain-client', enabled: true, pkce_enabled: true });
    expect(JSON.stringify(data)).not.toContain('plain-secret');
    const stored = await db.db.selectFrom('custom_oauth_providers').select('client_secret').where('identifier', '=', 'custom:plain').executeTakeFirstOrThrow();
    expect(stored.client_secret).toMatch(/^vault:v1:k:/);

    gh.account = { id: 777, login: 'plainuser', name: 'Plain User', emails: [{ email: uniqueEmail('plain'), primary: true, verified: true }] };
    const landed = await new Browser({ [PUBLIC]: server.url }).navigate(`${server.url}/authorize?provider=custom:plain`, (u) => u.startsWith(SITE));
    const authz = gh.authorizeRequests.at(-1)!;
    expect([authz.searchParams.get('scope'), authz.searchParams.get('allow_signup')]).toEqual(['read:user', 'false']);
    expect(gh.tokenRequestAuth.at(-1)).toBe('post');
    const f = fragmentOf(landed);
    const me = await jsonOf(fetch(`${server.url}/user`, { headers: { Authorization: `Bearer ${f.access_token}` } }));
    expect(me.email).toBe(gh.account.emails[0]!.email);
    expect(me.identities[0]).toMatchObject({ provider: 'custom:plain', id: '777' });
    expect(me.identities[0].identity_data).toMatchObject({ user_name: 'plainuser', name: 'Plain User' });
  });

  it('creates an OIDC provider after validating its discovery document; lists, reads, updates and deletes it', async () => {
    const created = await admin.customProviders.createProvider({ provider_type: 'oidc', identifier: 'custom:corp', name: 'Corp', client_id: 'corp', client_secret: 'corp-secret', issuer: op.issuer, scopes: ['email', 'profile'] });
    expect(created.error).toBeNull();
    expect(created.data?.discovery_document).toMatchObject({ issuer: op.issuer, jwks_uri: `${op.issuer}/jwks` });

    const landedCorp = await new Browser({ [PUBLIC]: server.url }, 'emp1').navigate(`${server.url}/authorize?provider=custom:corp`, (u) => u.startsWith(SITE));
    const f = fragmentOf(landedCorp);
    expect(f.error_description, landedCorp).toBeUndefined();
    expect(claimsOf(f.access_token!).email).toBe(op.accounts.emp1!.email);

    const list = await admin.customProviders.listProviders({ type: 'oidc' });
    expect(list.data.providers.map((p) => p.identifier)).toEqual(['custom:corp']);
    expect((await admin.customProviders.getProvider('custom:corp')).data?.name).toBe('Corp');
    expect((await admin.customProviders.getProvider(created.data!.id)).data?.identifier).toBe('custom:corp');

    const updated = await admin.customProviders.updateProvider('custom:corp', { name: 'Corp SSO', enabled: false });
    expect(updated.data).toMatchObject({ name: 'Corp SSO', enabled: false, client_id: 'corp' });
    const disabled = await fetch(`${server.url}/authorize?provider=custom:corp`, { redirect: 'manual', headers: API_VERSION });
    expect([disabled.status, (await jsonOf(disabled)).code]).toEqual([400, 'provider_disabled']);

    expect((await admin.customProviders.deleteProvider('custom:corp')).error).toBeNull();
    expect((await admin.customProviders.getProvider('custom:corp')).error?.code).toBe('custom_provider_not_found');
  });

  it.each([
    ['an unreachable issuer', { provider_type: 'oidc', identifier: 'custom:down', name: 'x', client_id: 'x', client_secret: 'y', issuer: 'http://127.0.0.1:9/nothing' }, 400, 'validation_failed'],
    ['an OAuth2 provider without endpoints', { provider_type: 'oauth2', identifier: 'custom:bare', name: 'x', client_id: 'x', client_secret: 'y' }, 400, 'validation_failed'],
    ['a bad identifier', { provider_type: 'oauth2', identifier: 'acme', name: 'x', client_id: 'x', client_secret: 'y' }, 400, 'validation_failed'],
    ['an unknown provider_type', { provider_type: 'saml', identifier: 'custom:s', name: 'x', client_id: 'x', client_secret: 'y' }, 400, 'validation_failed'],
    ['no client_secret', { provider_type: 'oauth2', identifier: 'custom:s', name: 'x', client_id: 'x' }, 400, 'validation_failed'],
    ['a non-http URL', { provider_type: 'oauth2', identifier: 'custom:s', name: 'x', client_id: 'x', client_secret: 'y', token_url: 'ftp://x' }, 400, 'validation_failed'],
    ['a bad client_auth', { provider_type: 'oauth2', identifier: 'custom:s', name: 'x', client_id: 'x', client_secret: 'y', client_auth: 'jwt' }, 400, 'validation_failed'],
    ['an identifier configured by env', { provider_type: 'oidc', identifier: 'custom:envone', name: 'x', client_id: 'x', client_secret: 'y', issuer: 'https://x.example' }, 409, 'conflict'],
    ['no body', undefined, 400, 'bad_json'],
  ])('POST answers %s', async (_n, body, status, code) => {
    const res = await fetch(`${server.url}/admin/custom-providers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${serviceRoleJwt(server.deps)}`, 'content-type': 'application/json', ...API_VERSION },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect([res.status, (await jsonOf(res)).code]).toEqual([status, code]);
  });

  it.each([
    ['GET', '/admin/custom-providers', undefined, 401, 'no_authorization'],
    ['GET', '/admin/custom-providers', 'authenticated', 403, 'not_admin'],
    ['GET', '/admin/custom-providers?type=saml', 'service_role', 400, 'validation_failed'],
    ['GET', '/admin/custom-providers/custom:none', 'service_role', 404, 'custom_provider_not_found'],
    ['PUT', '/admin/custom-providers/nonsense', 'service_role', 404, 'custom_provider_not_found'],
    ['DELETE', '/admin/custom-providers/8f0c6a43-1d8e-4f4e-9b7c-0a5f2f1d3e21', 'service_role', 404, 'custom_provider_not_found'],
  ])('%s %s as %s answers %i %s', async (method, path, role, status, code) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...API_VERSION };
    if (role) headers.Authorization = `Bearer ${apiKeyJwt(server.deps, role)}`;
    const res = await fetch(`${server.url}${path}`, { method, headers, body: method === 'PUT' ? '{}' : undefined });
    expect([res.status, (await jsonOf(res)).code]).toEqual([status, code]);
  });

  it('never stores a client secret in plaintext: without GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS, create and a secret update are refused', async () => {
    const noVault = await startTestServer(db, { GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: '' });
    try {
      const call = (method: string, path: string, body: unknown) =>
        fetch(`${noVault.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${serviceRoleJwt(noVault.deps)}`, 'content-type': 'application/json', ...API_VERSION },
          body: JSON.stringify(body),
        });
      const plain = { provider_type: 'oauth2', identifier: 'custom:novault', name: 'x', client_id: 'x', client_secret: 'plain-secret', authorization_url: `${gh.url}/a`, token_url: `${gh.url}/t`, userinfo_url: `${gh.url}/u` };
      const refused = await call('POST', '/admin/custom-providers', plain);
      const body = await jsonOf(refused);
      expect([refused.status, body.code]).toEqual([400, 'feature_disabled']);
      expect(body.message).toContain('GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS');
      expect(await db.db.selectFrom('custom_oauth_providers').select('id').where('identifier', '=', 'custom:novault').executeTakeFirst()).toBeUndefined();

      // A provider sealed while the vault was configured: a new secret is refused too, the sealed one stays.
      const sealed = await admin.customProviders.createProvider({ ...plain, provider_type: 'oauth2', identifier: 'custom:sealed' });
      expect(sealed.error).toBeNull();
      const secretUpdate = await call('PUT', '/admin/custom-providers/custom:sealed', { client_secret: 'new-plain-secret' });
      expect([secretUpdate.status, (await jsonOf(secretUpdate)).code]).toEqual([400, 'feature_disabled']);
      const stored = await db.db.selectFrom('custom_oauth_providers').select('client_secret').where('identifier', '=', 'custom:sealed').executeTakeFirstOrThrow();
      expect(stored.client_secret).toMatch(/^vault:v1:/);
    } finally {
      await noVault.close();
    }
  });
});
