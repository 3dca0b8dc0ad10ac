import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { PLACEHOLDER_JWT_SECRETS, startupWarnings } from '../../src/cli/startup-warnings';

const RANDOM_SECRET = 'k3J9x2Vq8LmZ0pR7tW4yB6nC1dF5gH8jQ2sA';
const postgres = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  GOTRUE_JWT_SECRET: RANDOM_SECRET,
  GOTRUE_SITE_URL: 'https://app.example.com',
  API_EXTERNAL_URL: 'https://auth.example.com',
  GOTRUE_SMTP_HOST: 'smtp.example.com',
};
const warningsFor = (env: Record<string, string>) => startupWarnings(loadConfig(env));
const withSecret = (config: Config, secret: string): Config => ({ ...config, jwt: { ...config.jwt, secret } });

describe('startup warnings', () => {
  it('has nothing to say about a sound Postgres deployment or the embedded default', () => {
    expect(warningsFor(postgres)).toEqual([]);
    expect(warningsFor({})).toEqual([]);
    expect(warningsFor({ GOTRUE_JWT_SECRET: RANDOM_SECRET })).toEqual([]);
  });

  it.each(PLACEHOLDER_JWT_SECRETS.filter((s) => Buffer.byteLength(s) >= 32))('warns that the JWT secret %j is a published placeholder', (secret) => {
    const warnings = warningsFor({ ...postgres, GOTRUE_JWT_SECRET: secret });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^GOTRUE_JWT_SECRET is a published placeholder: .*openssl rand/);
    expect(warnings[0]).not.toContain(secret);
  });

  it('warns about secrets that say they are placeholders, and about guessable ones', () => {
    expect(warningsFor({ ...postgres, GOTRUE_JWT_SECRET: 'please-change-me-before-production-use!!' })[0]).toMatch(/placeholder/);
    expect(warningsFor({ ...postgres, GOTRUE_JWT_SECRET: 'x'.repeat(40) })[0]).toMatch(/^GOTRUE_JWT_SECRET uses fewer than 8 distinct characters/);
  });

  it('warns about a secret shorter than 32 bytes (the configuration refuses one today; the rule stands on its own)', () => {
    expect(() => loadConfig({ ...postgres, GOTRUE_JWT_SECRET: 'short-but-random-Zq81' })).toThrow(/at least 32 bytes/);
    expect(startupWarnings(withSecret(loadConfig(postgres), 'short-but-random-Zq81'))).toEqual([expect.stringMatching(/^GOTRUE_JWT_SECRET is shorter than 32 bytes/)]);
  });

  it('warns that sign-ups can never be confirmed on Postgres without SMTP while autoconfirm is off', () => {
    const { GOTRUE_SMTP_HOST: _, ...noSmtp } = postgres;
    expect(warningsFor(noSmtp)).toEqual([expect.stringMatching(/^GOTRUE_SMTP_HOST is not set on Postgres and GOTRUE_MAILER_AUTOCONFIRM is off: .*never be confirmed/)]);
    expect(warningsFor({ ...noSmtp, GOTRUE_MAILER_AUTOCONFIRM: 'true' })).toEqual([]);
    expect(warningsFor({ ...noSmtp, GOTRUE_DISABLE_SIGNUP: 'true' })).toEqual([]);
    expect(warningsFor({ ...noSmtp, GOTRUE_EXTERNAL_EMAIL_ENABLED: 'false' })).toEqual([]);
    // The embedded default logs its mail for the developer instead.
    expect(warningsFor({})).toEqual([]);
  });

  it('warns that rate limits are effectively off: per-process counts under several workers, credential buckets set absurdly high', () => {
    expect(warningsFor({ ...postgres, GOTRUE_RATE_LIMIT_STORE: 'memory', GOTRUE_WORKERS: '4' })).toEqual([
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_STORE is memory with GOTRUE_WORKERS=4: .* 4 times looser/),
    ]);
    expect(warningsFor({ ...postgres, GOTRUE_RATE_LIMIT_STORE: 'memory' })).toEqual([]);
    expect(warningsFor({ ...postgres, GOTRUE_WORKERS: '4' })).toEqual([]);

    const loose = warningsFor({ ...postgres, GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000', GOTRUE_RATE_LIMIT_VERIFY: '100000' });
    expect(loose).toEqual([expect.stringMatching(/^rate limits are effectively off: GOTRUE_RATE_LIMIT_TOKEN_REFRESH=1000000, GOTRUE_RATE_LIMIT_VERIFY=100000 /)]);
    expect(warningsFor({ ...postgres, GOTRUE_RATE_LIMIT_OTP: '99999', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1500' })).toEqual([]);
  });

  it('warns about a short or placeholder OAuth server API key (issue 15), never printing it', () => {
    const base = loadConfig(postgres);
    const withKey = (apiKey: string, enabled = true): Config => ({ ...base, oauthServer: { ...base.oauthServer, enabled, apiKey } });
    for (const key of ['short-key', 'change-me-to-a-long-random-api-key-please-0000']) {
      const warnings = startupWarnings(withKey(key));
      expect(warnings).toEqual([expect.stringMatching(/^GOTRUE_OAUTH_SERVER_API_KEY is shorter than 32 bytes or a placeholder/)]);
      expect(warnings[0]).not.toContain(key);
    }
    expect(startupWarnings(withKey('short-key', false))).toEqual([]);
    expect(startupWarnings(withKey(RANDOM_SECRET + RANDOM_SECRET))).toEqual([]);
    expect(startupWarnings(withKey(''))).toEqual([]);
  });

  it('says when the hosted OAuth pages are enabled but cannot be reached (server off, or an app consent page set)', () => {
    const base = loadConfig(postgres);
    const pages = (o: Partial<typeof base.oauthServer>): Config => ({ ...base, oauthServer: { ...base.oauthServer, hostedPagesEnabled: true, ...o } });
    expect(startupWarnings(pages({ enabled: false }))).toEqual([expect.stringMatching(/^GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED is ignored: GOTRUE_OAUTH_SERVER_ENABLED is off/)]);
    expect(startupWarnings(pages({ enabled: true, authorizationPath: '/consent' }))).toEqual([expect.stringMatching(/is ignored: GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH is set \(\/consent\)/)]);
    expect(startupWarnings(pages({ enabled: true, authorizationPath: '' }))).toEqual([]);
  });

  it('warns loudly while GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS is set (it lifts the SSRF guard for those origins)', () => {
    const warnings = warningsFor({ ...postgres, GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: 'http://127.0.0.1:4000' });
    expect(warnings).toEqual([expect.stringMatching(/^GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS is set \(http:\/\/127\.0\.0\.1:4000\).*tests only/)]);
    expect(() => loadConfig({ ...postgres, GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: 'http://127.0.0.1:4000/docs' })).toThrow(/GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS/);
  });
});
