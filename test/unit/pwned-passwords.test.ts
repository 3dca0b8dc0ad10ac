import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createPwnedPasswords, HashBloom } from '../../src/security/pwned-passwords';
import { startPwnedRangeStandIn, type PwnedRangeStandIn } from '../helpers/pwned-range-stand-in';

const PWNED = 'hunter2-hunter2';
let range: PwnedRangeStandIn;
beforeAll(async () => {
  range = await startPwnedRangeStandIn([PWNED]);
});
afterAll(() => range.close());

const hibp = (bloom: boolean) =>
  loadConfig({ GOTRUE_PASSWORD_HIBP_ENABLED: 'true', GOTRUE_PASSWORD_HIBP_URL: `${range.url}/`, GOTRUE_PASSWORD_HIBP_BLOOM_ENABLED: String(bloom), GOTRUE_PASSWORD_HIBP_USER_AGENT: 'ours/1' }).hibp;

describe('the range check', () => {
  it('asks once for concurrent checks of one prefix, with the configured user agent and padding', async () => {
    const check = createPwnedPasswords(hibp(false), fetch);
    const before = range.requests.length;
    expect(await Promise.all([check.isPwned(PWNED), check.isPwned(PWNED), check.isPwned(PWNED)])).toEqual([true, true, true]);
    expect(range.requests.slice(before)).toEqual([{ path: expect.stringMatching(/^\/[0-9A-F]{5}$/), userAgent: 'ours/1', padding: 'true' }]);
  });

  it('without the bloom cache every check asks; with it a known pwned hash is answered in-process', async () => {
    const plain = createPwnedPasswords(hibp(false), fetch);
    const cached = createPwnedPasswords(hibp(true), fetch);
    let before = range.requests.length;
    await plain.isPwned(PWNED);
    await plain.isPwned(PWNED);
    expect(range.requests.length - before).toBe(2);
    before = range.requests.length;
    expect(await cached.isPwned(PWNED)).toBe(true);
    expect(await cached.isPwned(PWNED)).toBe(true);
    expect(range.requests.length - before).toBe(1);
    // A password that is not pwned is never cached: it is asked each time.
    expect(await cached.isPwned('not-in-the-corpus-123')).toBe(false);
    expect(await cached.isPwned('not-in-the-corpus-123')).toBe(false);
    expect(range.requests.length - before).toBe(3);
  });

  it('throws when the range API answers other than 200 (the caller applies fail-open or fail-closed)', async () => {
    range.failing(true);
    try {
      await expect(createPwnedPasswords(hibp(false), fetch).isPwned(PWNED)).rejects.toThrow('HTTP 503');
    } finally {
      range.failing(false);
    }
  });
});

describe('HashBloom', () => {
  const digest = () => createHash('sha1').update(randomBytes(16)).digest('hex').toUpperCase();

  it('has no false negatives and about the configured false-positive rate', () => {
    const bloom = new HashBloom(10_000, 0.001);
    const added = Array.from({ length: 7_000 }, digest);
    for (const d of added) bloom.add(d);
    expect(added.every((d) => bloom.has(d))).toBe(true);
    const probes = 20_000;
    let positives = 0;
    for (let i = 0; i < probes; i++) if (bloom.has(digest())) positives++;
    expect(positives / probes).toBeLessThan(0.005);
  });

  it('starts over past 80 % of its capacity, as GoTrue’s cache does', () => {
    const bloom = new HashBloom(100, 0.01);
    const first = digest();
    bloom.add(first);
    for (let i = 0; i < 80; i++) bloom.add(digest());
    expect(bloom.has(first)).toBe(false);
  });

  it('sizes itself as GoTrue’s defaults do (100000 items at 0.0000099: about 300 KB)', () => {
    const bloom = new HashBloom(100_000, 0.0000099);
    expect(bloom.size).toBeGreaterThan(250_000);
    expect(bloom.size).toBeLessThan(350_000);
  });
});
