import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigError } from '../../src/config';

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

describe('rate-limit configuration', () => {
  it("defaults to GoTrue's limits and a store that fits the database: memory on the embedded one, Postgres with DATABASE_URL", () => {
    const embedded = loadConfig({}).rateLimit;
    expect(embedded).toMatchObject({
      store: 'memory',
      header: undefined,
      headerTrustedHops: 1,
      sbForwardedForEnabled: false,
      keyPrefix: 'gotrue',
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
        GOTRUE_RATE_LIMIT_KEY_PREFIX: 'has space',
      }),
    ).toEqual([
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS: expected a whole number ≥ 1/),
      expect.stringMatching(/^GOTRUE_RATE_LIMIT_KEY_PREFIX: expected 1 to 40 letters/),
      'GOTRUE_RATE_LIMIT_REDIS_URL: required when GOTRUE_RATE_LIMIT_STORE is redis',
    ]);
    expect(problems({ GOTRUE_RATE_LIMIT_STORE: 'redis' })).toEqual(['GOTRUE_RATE_LIMIT_REDIS_URL: required when GOTRUE_RATE_LIMIT_STORE is redis']);
    expect(problems({ GOTRUE_RATE_LIMIT_STORE: 'valkey' })).toEqual([expect.stringMatching(/^GOTRUE_RATE_LIMIT_STORE: /)]);
    expect(problems({ GOTRUE_RATE_LIMIT_REDIS_URL: 'http://127.0.0.1:6379' })).toEqual(['GOTRUE_RATE_LIMIT_REDIS_URL: expected a redis:// or rediss:// URL']);
  });
});
