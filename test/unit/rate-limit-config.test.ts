import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigError } from '../../src/config';
import { parseRate } from '../../src/config/rate';

const pgEnv = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  GOTRUE_JWT_SECRET: 'x'.repeat(40),
  GOTRUE_SITE_URL: 'https://app.example.com',
  API_EXTERNAL_URL: 'https://auth.example.com',
};

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    return (e as ConfigError).problems;
  }
  return [];
};

describe("GoTrue's rate syntax (GOTRUE_RATE_LIMIT_EMAIL_SENT, _SMS_SENT)", () => {
  it.each([
    ['30', { events: 30, windowMs: 3_600_000 }],
    ['2.5', { events: 2, windowMs: 3_600_000 }],
    ['0', { events: 0, windowMs: 3_600_000 }],
    // The burst form: N at once, then one per duration; as a fixed window, N per N × duration.
    ['10/1m', { events: 10, windowMs: 600_000 }],
    ['1/10s', { events: 1, windowMs: 10_000 }],
    ['5/0s', { events: 5, windowMs: 5 * 3_600_000 }],
  ])('reads %j', (text, rate) => expect(parseRate(text)).toEqual(rate));

  it.each(['', 'abc', '-1', '10/', '/1m', '1.5/1m', '10/5', '10/1x', '1/2/3'])('refuses %j', (text) => expect(parseRate(text)).toHaveProperty('problem'));
});

describe('rate-limit configuration', () => {
  it("defaults to GoTrue's limits and a store that fits the database: memory on the embedded one, Postgres with DATABASE_URL", () => {
    const embedded = loadConfig({}).rateLimit;
    expect(embedded).toMatchObject({
      store: 'memory',
      header: undefined,
      headerTrustedHops: 1,
      sbForwardedForEnabled: false,
      keyPrefix: 'gotrue',
      emailSent: { events: 30, windowMs: 3_600_000 },
      smsSent: { events: 30, windowMs: 3_600_000 },
    });
    expect(loadConfig(pgEnv).rateLimit.store).toBe('postgres');
  });

  it('a Redis URL makes Redis the default store; an explicit store wins', () => {
    const redis = { GOTRUE_RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:6379/2' };
    expect(loadConfig({ ...pgEnv, ...redis }).rateLimit).toMatchObject({ store: 'redis', redisUrl: 'redis://127.0.0.1:6379/2' });
    expect(loadConfig({ ...pgEnv, ...redis, GOTRUE_RATE_LIMIT_STORE: 'postgres' }).rateLimit.store).toBe('postgres');
    expect(loadConfig({ GOTRUE_RATE_LIMIT_STORE: 'postgres' }).rateLimit.store).toBe('postgres');
  });

  it('reports every bad rate-limit setting at once', () => {
    expect(
      problems({
        GOTRUE_RATE_LIMIT_STORE: 'redis',
        GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS: '0',
        GOTRUE_RATE_LIMIT_EMAIL_SENT: 'lots',
        GOTRUE_RATE_LIMIT_KEY_PREFIX: 'has space',
      }),
    ).toEqual([
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS: expected a whole number ≥ 1/),
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_KEY_PREFIX: expected 1 to 40 letters/),
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_EMAIL_SENT: expected a number of events per hour/),
      'GOTRUE_RATE_LIMIT_REDIS_URL: required when GOTRUE_RATE_LIMIT_STORE is redis',
    ]);
    expect(problems({ GOTRUE_RATE_LIMIT_STORE: 'redis' })).toEqual(['GOTRUE_RATE_LIMIT_REDIS_URL: required when GOTRUE_RATE_LIMIT_STORE is redis']);
    expect(problems({ GOTRUE_RATE_LIMIT_STORE: 'valkey' })).toEqual([expect.stringMatching(/^GOTRUE_RATE_LIMIT_STORE: /)]);
    expect(problems({ GOTRUE_RATE_LIMIT_REDIS_URL: 'http://127.0.0.1:6379' })).toEqual(['GOTRUE_RATE_LIMIT_REDIS_URL: expected a redis:// or rediss:// URL']);
  });
});
