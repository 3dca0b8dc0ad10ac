import { describe, expect, it } from 'vitest';
import type { ConfigError} from '../../src/config';
import { loadConfig } from '../../src/config';
import { BUILTIN_PROVIDERS } from '../../src/config/providers';

const env = { GOTRUE_SITE_URL: 'http://localhost:3000', API_EXTERNAL_URL: 'https://auth.example.com/auth/v1' };
const problemsOf = (e: Record<string, string>) => {
  try {
    loadConfig(e);
  } catch (err) {
    return (err as ConfigError).problems.join('\n');
  }
  return '';
};

describe('built-in provider settings', () => {
  it('read GOTRUE_EXTERNAL_<P>_* for every provider, off by default, redirecting to our /callback', () => {
    const c = loadConfig(env);
    expect(Object.keys(c.external.providers).sort()).toEqual([...BUILTIN_PROVIDERS].sort());
    expect(c.external.providers.github).toEqual({
      enabled: false,
      clientIds: [],
      secret: '',
      redirectUri: 'https://auth.example.com/auth/v1/callback',
      url: undefined,
      skipNonceCheck: false,
      emailOptional: false,
    });
  });

  it('parse a list of client ids, the URL without its trailing slash and the flags', () => {
    const c = loadConfig({
      ...env,
      GOTRUE_EXTERNAL_GOOGLE_ENABLED: 'true',
      GOTRUE_EXTERNAL_GOOGLE_CLIENT_ID: 'web, ios',
      GOTRUE_EXTERNAL_GOOGLE_SECRET: 's',
      GOTRUE_EXTERNAL_GOOGLE_URL: 'http://127.0.0.1:4000/',
      GOTRUE_EXTERNAL_GOOGLE_SKIP_NONCE_CHECK: 'true',
    });
    expect(c.external.providers.google).toMatchObject({ enabled: true, clientIds: ['web', 'ios'], url: 'http://127.0.0.1:4000', skipNonceCheck: true });
  });

  it('refuse an enabled provider without a client id, and Keycloak without its realm URL', () => {
    const text = problemsOf({ ...env, GOTRUE_EXTERNAL_GITHUB_ENABLED: 'true', GOTRUE_EXTERNAL_KEYCLOAK_ENABLED: 'true', GOTRUE_EXTERNAL_KEYCLOAK_CLIENT_ID: 'kc' });
    expect(text).toMatch(/GOTRUE_EXTERNAL_GITHUB_CLIENT_ID: required/);
    expect(text).toMatch(/GOTRUE_EXTERNAL_KEYCLOAK_URL: required/);
  });
});

describe('generic providers by environment', () => {
  it('reads GOTRUE_EXTERNAL_CUSTOM_<NAME>_* into custom:<name>', () => {
    const c = loadConfig({
      ...env,
      GOTRUE_EXTERNAL_CUSTOM_ACME_ENABLED: 'true',
      GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_ID: 'acme-client',
      GOTRUE_EXTERNAL_CUSTOM_ACME_SECRET: 'acme-secret',
      GOTRUE_EXTERNAL_CUSTOM_ACME_ACCEPTABLE_CLIENT_IDS: 'a b',
      GOTRUE_EXTERNAL_CUSTOM_ACME_AUTHORIZATION_URL: 'https://acme.example/oauth/authorize',
      GOTRUE_EXTERNAL_CUSTOM_ACME_TOKEN_URL: 'https://acme.example/oauth/token',
      GOTRUE_EXTERNAL_CUSTOM_ACME_USERINFO_URL: 'https://acme.example/api/me',
      GOTRUE_EXTERNAL_CUSTOM_ACME_SCOPES: 'read:user email',
      GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_AUTH: 'both',
      GOTRUE_EXTERNAL_CUSTOM_ACME_PKCE: 'false',
      GOTRUE_EXTERNAL_CUSTOM_ACME_AUTHORIZATION_PARAMS: 'prompt=consent&access_type=offline',
      GOTRUE_EXTERNAL_CUSTOM_ACME_ATTRIBUTE_MAPPING: '{"sub":"id","email":"contact.mail"}',
      GOTRUE_EXTERNAL_CUSTOM_ACME_ISSUES_REFRESH_TOKENS: 'false',
    });
    expect(c.external.custom).toEqual([
      expect.objectContaining({
        identifier: 'custom:acme',
        providerType: 'oauth2',
        enabled: true,
        clientId: 'acme-client',
        acceptableClientIds: ['a', 'b'],
        scopes: ['read:user', 'email'],
        clientAuth: 'both',
        pkceEnabled: false,
        authorizationParams: { prompt: 'consent', access_type: 'offline' },
        attributeMapping: { sub: 'id', email: 'contact.mail' },
        issuesRefreshTokens: false,
      }),
    ]);
  });

  it('takes an issuer to mean OIDC', () => {
    const c = loadConfig({ ...env, GOTRUE_EXTERNAL_CUSTOM_CORP_ENABLED: 'true', GOTRUE_EXTERNAL_CUSTOM_CORP_CLIENT_ID: 'x', GOTRUE_EXTERNAL_CUSTOM_CORP_ISSUER: 'https://id.corp.example' });
    expect(c.external.custom[0]).toMatchObject({ identifier: 'custom:corp', providerType: 'oidc', pkceEnabled: true, clientAuth: 'basic' });
  });

  it.each([
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_ENABLED: 'true' }, /CUSTOM_ACME: a client id is required/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_ENABLED: 'true', GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_ID: 'x' }, /needs an authorization URL/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_ENABLED: 'true', GOTRUE_EXTERNAL_CUSTOM_ACME_TYPE: 'oidc', GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_ID: 'x' }, /needs an issuer/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_ISSUER: 'not a url' }, /CUSTOM_ACME_ISSUER: expected an absolute/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_CLIENT_AUTH: 'jwt' }, /CLIENT_AUTH: expected basic, post or both/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_PKCE: 'maybe' }, /CUSTOM_ACME_PKCE: expected a boolean/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_ATTRIBUTE_MAPPING: '[1]' }, /ATTRIBUTE_MAPPING: expected a JSON object/],
    [{ GOTRUE_EXTERNAL_CUSTOM_ACME_AUTHORIZATION_PARAMS: 'novalue' }, /AUTHORIZATION_PARAMS: expected k=v/],
    [{ GOTRUE_EXTERNAL_CUSTOM_MY_CO_FROB: 'x' }, /not a custom provider setting/],
  ])('reports %o', (extra, problem) => {
    expect(problemsOf({ ...env, ...extra })).toMatch(problem);
  });
});

describe('GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  it('reads kid:key pairs, first one current', () => {
    const c = loadConfig({ ...env, GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k2:${key}, k1:${Buffer.alloc(32, 1).toString('base64')}` });
    expect(c.external.tokenVaultKeys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(c.external.tokenVaultKeys[0]!.key.equals(Buffer.alloc(32, 7))).toBe(true);
  });
  it.each([['k1'], ['k1:c2hvcnQ='], [`k1:${key},k1:${key}`], [`bad id!:${key}`]])('refuses %s', (v) => {
    expect(problemsOf({ ...env, GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: v })).toMatch(/GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS/);
  });
  it('is empty by default: tokens are not stored', () => {
    expect(loadConfig(env).external.tokenVaultKeys).toEqual([]);
  });
});
