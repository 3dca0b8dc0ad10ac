import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseGoDuration } from '../../src/config';
import { parseGoBool, parseList, parseRequiredCharacters } from '../../src/config/parsers';

describe('Go-style value parsers', () => {
  it.each([
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2m3s', 123_000],
    ['60', 60_000],
    ['0', 0],
  ])('reads the duration %s', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['', 'abc', '1x', '1h 30m', 'h'])('refuses the duration %j', (text) => expect(parseGoDuration(text)).toBeUndefined());

  it('reads booleans as strconv.ParseBool does', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(parseGoBool(f)).toBe(false);
    for (const x of ['yes', 'on', '', 'tru']) expect(parseGoBool(x)).toBeUndefined();
  });

  it('splits comma lists and drops empty items', () => expect(parseList(' a, b,,c ')).toEqual(['a', 'b', 'c']));

  it('splits required character sets on colons, keeping escaped ones', () => {
    expect(parseRequiredCharacters('abc:ABC:0123456789')).toEqual(['abc', 'ABC', '0123456789']);
    expect(parseRequiredCharacters('!@\\:#')).toEqual(['!@:#']);
  });
});

const pgEnv = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  GOTRUE_JWT_SECRET: 'x'.repeat(40),
  GOTRUE_SITE_URL: 'https://app.example.com',
  API_EXTERNAL_URL: 'https://auth.example.com',
};

describe('loadConfig', () => {
  it('applies GoTrue defaults', () => {
    const c = loadConfig(pgEnv);
    expect(c.api.port).toBe(8081);
    expect(c.db.namespace).toBe('auth');
    expect(c.jwt).toMatchObject({ exp: 3600, aud: 'authenticated', adminRoles: ['service_role', 'supabase_admin'], adminGroupName: 'admin', issuer: '' });
    expect(c.external.email.enabled).toBe(true);
    expect(c.external.phone.enabled).toBe(false);
    expect(c.security).toEqual({ manualLinkingEnabled: false, refreshTokenRotationEnabled: true, refreshTokenReuseInterval: 0 });
    expect(c.password.minLength).toBe(6);
    expect(c.api.maxRequestDurationMs).toBe(10_000);
  });

  it('returns a frozen config', () => {
    const c = loadConfig(pgEnv);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.jwt)).toBe(true);
  });

  it('accepts GoTrue alias names, the prefixed one winning', () => {
    const c = loadConfig({ ...pgEnv, DATABASE_URL: undefined, GOTRUE_DB_DATABASE_URL: 'postgres://a@b/c', PORT: '7000', GOTRUE_API_PORT: '9999' });
    expect(c.db.url).toBe('postgres://a@b/c');
    expect(c.api.port).toBe(9999);
    expect(loadConfig({ ...pgEnv, PORT: '7000' }).api.port).toBe(7000);
  });

  it('parses values as GoTrue does', () => {
    const c = loadConfig({
      ...pgEnv,
      GOTRUE_JWT_ADMIN_ROLES: 'a,b',
      GOTRUE_MAILER_AUTOCONFIRM: 'True',
      GOTRUE_API_MAX_REQUEST_DURATION: '1m30s',
      GOTRUE_PASSWORD_REQUIRED_CHARACTERS: 'abc:123',
      GOTRUE_URI_ALLOW_LIST: 'http://a.com/**, https://b.com',
    });
    expect(c.jwt.adminRoles).toEqual(['a', 'b']);
    expect(c.mailer.autoconfirm).toBe(true);
    expect(c.api.maxRequestDurationMs).toBe(90_000);
    expect(c.password.requiredCharacters).toEqual(['abc', '123']);
    expect(c.uriAllowList).toEqual(['http://a.com/**', 'https://b.com']);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://x/y', GOTRUE_JWT_EXP: 'soon', GOTRUE_MAILER_AUTOCONFIRM: 'maybe', PORT: '-1' });
      expect.fail('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      expect(text).toMatch(/GOTRUE_JWT_EXP/);
      expect(text).toMatch(/GOTRUE_MAILER_AUTOCONFIRM/);
      expect(text).toMatch(/PORT/);
    }
  });

  it('requires the secret and URLs on Postgres, and not on the embedded default', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y' })).toThrow(/GOTRUE_JWT_SECRET[\s\S]*GOTRUE_SITE_URL[\s\S]*API_EXTERNAL_URL/);
    const embedded = loadConfig({});
    expect(embedded.db.url).toBeUndefined();
    expect(embedded.db.dataDir).toBe('./.gotrue-data');
    expect(embedded.jwt.secret).toBeUndefined();
    expect(embedded.siteUrl).toBe('http://localhost:3000');
  });

  it('refuses a short HS256 secret, a non-postgres URL and workers on the embedded database', () => {
    expect(() => loadConfig({ ...pgEnv, GOTRUE_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadConfig({ ...pgEnv, DATABASE_URL: 'mysql://x' })).toThrow(/postgres/);
    expect(() => loadConfig({ GOTRUE_WORKERS: '2' })).toThrow(/GOTRUE_WORKERS/);
  });
});
