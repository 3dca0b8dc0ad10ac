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
    expect(c.security).toEqual({
      manualLinkingEnabled: false,
      refreshTokenRotationEnabled: true,
      refreshTokenReuseInterval: 0,
      updatePasswordRequireReauthentication: false,
      updatePasswordRequireCurrentPassword: false,
    });
    expect(c.password.minLength).toBe(6);
    expect(c.api.maxRequestDurationMs).toBe(10_000);
  });

  it('applies GoTrue mail and SMS defaults', () => {
    const c = loadConfig(pgEnv);
    expect(c.mailer).toMatchObject({ autoconfirm: false, secureEmailChangeEnabled: true, otpExpSeconds: 86400, otpLength: 6 });
    expect(c.mailer.urlPaths).toEqual({ confirmation: '/verify', invite: '/verify', recovery: '/verify', magic_link: '/verify', email_change: '/verify' });
    expect(c.mailer.templates.magic_link).toBeUndefined();
    expect(c.smtp).toMatchObject({ host: undefined, port: 587, maxFrequencyMs: 60_000 });
    expect(c.sms).toMatchObject({ template: 'Your code is {{ .Code }}', maxFrequencyMs: 60_000, otpExp: 60, otpLength: 6, testOtp: {}, testOtpValidUntil: undefined });
    expect(c.rateLimit.verify).toBe(30);
    expect(c.external.email.magicLinkEnabled).toBe(true);
  });

  it('reads per-kind mail settings and SMS test OTPs by their GoTrue names', () => {
    const c = loadConfig({
      ...pgEnv,
      GOTRUE_MAILER_TEMPLATES_MAGIC_LINK: '/etc/gotrue/magic.html',
      GOTRUE_MAILER_SUBJECTS_EMAIL_CHANGE: 'New address?',
      GOTRUE_MAILER_URLPATHS_RECOVERY: '/auth/v1/verify',
      GOTRUE_SMS_TEST_OTP: '+1 555 123 4567=123456, 4915112345678=000000',
      GOTRUE_SMS_TEST_OTP_VALID_UNTIL: '2030-01-01T00:00:00Z',
      GOTRUE_SMTP_MAX_FREQUENCY: '5s',
    });
    expect(c.mailer.templates.magic_link).toBe('/etc/gotrue/magic.html');
    expect(c.mailer.subjects.email_change).toBe('New address?');
    expect(c.mailer.urlPaths.recovery).toBe('/auth/v1/verify');
    expect(c.sms.testOtp).toEqual({ '15551234567': '123456', '4915112345678': '000000' });
    expect(c.sms.testOtpValidUntil).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(c.smtp.maxFrequencyMs).toBe(5000);
  });

  it.each([
    ['GOTRUE_SMS_TEST_OTP', 'not-a-pair'],
    ['GOTRUE_SMS_TEST_OTP_VALID_UNTIL', 'tomorrow'],
    ['GOTRUE_MAILER_OTP_LENGTH', '4'],
    ['GOTRUE_SMTP_PORT', 'smtp'],
    ['GOTRUE_DB_CONNECT_TIMEOUT', '0s'],
    ['GOTRUE_DB_CONNECT_TIMEOUT', 'soon'],
    ['GOTRUE_DB_STATEMENT_TIMEOUT', '-1s'],
  ])('refuses a malformed %s', (key, value) => {
    expect(() => loadConfig({ ...pgEnv, [key]: value })).toThrow(key);
  });

  it('bounds database waits: GOTRUE_DB_CONNECT_TIMEOUT 5s and GOTRUE_DB_STATEMENT_TIMEOUT 10s by default, Go durations', () => {
    expect(loadConfig(pgEnv).db).toMatchObject({ connectTimeoutMs: 5_000, statementTimeoutMs: 10_000 });
    const c = loadConfig({ ...pgEnv, GOTRUE_DB_CONNECT_TIMEOUT: '1500ms', GOTRUE_DB_STATEMENT_TIMEOUT: '0' });
    expect(c.db).toMatchObject({ connectTimeoutMs: 1_500, statementTimeoutMs: 0 });
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

  it('reads GoTrue’s GOTRUE_EXTERNAL_REDIRECTURL, with GOTRUE_EXTERNAL_REDIRECT_URL as an alias', () => {
    expect(loadConfig({ ...pgEnv, GOTRUE_EXTERNAL_REDIRECTURL: 'https://app.example.com/done' }).external.redirectUrl).toBe('https://app.example.com/done');
    expect(loadConfig({ ...pgEnv, GOTRUE_EXTERNAL_REDIRECT_URL: 'https://app.example.com/old' }).external.redirectUrl).toBe('https://app.example.com/old');
    const both = loadConfig({ ...pgEnv, GOTRUE_EXTERNAL_REDIRECTURL: 'https://app.example.com/new', GOTRUE_EXTERNAL_REDIRECT_URL: 'https://app.example.com/old' });
    expect(both.external.redirectUrl).toBe('https://app.example.com/new');
    expect(loadConfig(pgEnv).external.redirectUrl).toBeUndefined();
    expect(() => loadConfig({ ...pgEnv, GOTRUE_EXTERNAL_REDIRECT_URL: 'not a url' })).toThrow(/GOTRUE_EXTERNAL_REDIRECTURL/);
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
