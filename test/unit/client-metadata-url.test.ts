import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { isMetadataDocumentUrl } from '../../src/domain/client-metadata';
import type { Deps } from '../../src/deps';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  GOTRUE_JWT_SECRET: 'x'.repeat(40),
  GOTRUE_SITE_URL: 'https://app.example.com',
  API_EXTERNAL_URL: 'https://auth.example.com',
  GOTRUE_OAUTH_SERVER_CIMD_ENABLED: 'true',
};

describe('GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS', () => {
  it('is normalised once by the config: each origin as URL.origin spells it, trailing slashes gone, duplicates dropped', () => {
    const config = loadConfig({ ...env, GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: 'http://127.0.0.1:4000/, http://127.0.0.1:4000, https://docs.test:8443//' });
    expect(config.oauthServer.cimd.testingOnlyInsecureOrigins).toEqual(['http://127.0.0.1:4000', 'https://docs.test:8443']);
  });

  it.each(['http://127.0.0.1:4000/docs', 'HTTP://127.0.0.1:4000', 'http://example.com:80', 'ftp://127.0.0.1:4000', 'not a url'])('refuses %j (not an origin as URL.origin spells it)', (origin) => {
    expect(() => loadConfig({ ...env, GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: origin })).toThrow(/GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS/);
  });
});

describe('which client_id is a Client ID Metadata Document URL', () => {
  /** The JWT secret is set, as Deps['config'] requires. */
  const configOf = (extra: Record<string, string>) => loadConfig({ ...env, ...extra }) as Deps['config'];
  const deps = { config: configOf({ GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: 'http://127.0.0.1:4000/,https://docs.test:8443' }) };

  it.each([
    ['an https URL with a path', 'https://client.example.com/client.json'],
    ['a deeper path with a query', 'https://client.example.com/mcp/a/client.json?v=2'],
    ['an https URL on a port', 'https://client.example.com:8443/client.json'],
    ['http from a testing-only origin (listed with a trailing slash)', 'http://127.0.0.1:4000/mcp/client.json'],
    ['https from a testing-only origin', 'https://docs.test:8443/client.json'],
    ['an @ in the path (not userinfo)', 'https://client.example.com/@me/client.json'],
    ['exactly 2048 characters', `https://client.example.com/${'a'.repeat(2048 - 'https://client.example.com/'.length)}`],
  ])('accepts %s', (_what, id) => expect(isMetadataDocumentUrl(deps, id)).toBe(true));

  it.each([
    ['a uuid', '6f1c2b0e-8d5a-4a43-9a34-0c5f2a7d9e11'],
    ['an empty string', ''],
    ['plain http from another origin', 'http://client.example.com/client.json'],
    ['http from a testing-only host on another port', 'http://127.0.0.1:4001/client.json'],
    ['http on the port of an https testing-only origin', 'http://docs.test:8443/client.json'],
    ['another scheme', 'ftp://client.example.com/client.json'],
    ['a blob URL whose origin is a testing-only one', 'blob:https://docs.test:8443/client.json'],
    ['no path', 'https://client.example.com'],
    ['the path /', 'https://client.example.com/'],
    ['a fragment', 'https://client.example.com/client.json#x'],
    ['an empty fragment', 'https://client.example.com/client.json#'],
    ['a user', 'https://user@client.example.com/client.json'],
    ['a password only', 'https://:pw@client.example.com/client.json'],
    ['a .. segment', 'https://client.example.com/a/../client.json'],
    ['a . segment', 'https://client.example.com/./client.json'],
    ['an encoded .. segment', 'https://client.example.com/a/%2e%2e/client.json'],
    ['an upper-case scheme', 'HTTPS://client.example.com/client.json'],
    ['an upper-case host', 'https://Client.example.com/client.json'],
    ['the default port written out', 'https://client.example.com:443/client.json'],
    ['a space the parser would encode', 'https://client.example.com/my client.json'],
    ['a single slash after the scheme', 'https:/client.example.com/client.json'],
    ['leading whitespace', ' https://client.example.com/client.json'],
    ['over 2048 characters', `https://client.example.com/${'a'.repeat(2049 - 'https://client.example.com/'.length)}`],
    ['not a URL', 'https://'],
  ])('refuses %s', (_what, id) => expect(isMetadataDocumentUrl(deps, id)).toBe(false));

  it('refuses every URL while CIMD is off', () => {
    const off = { config: configOf({ GOTRUE_OAUTH_SERVER_CIMD_ENABLED: 'false' }) };
    expect(isMetadataDocumentUrl(off, 'https://client.example.com/client.json')).toBe(false);
  });
});
