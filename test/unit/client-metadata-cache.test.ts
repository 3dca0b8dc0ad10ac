import { describe, expect, it } from 'vitest';
import { cacheLifetimeMs, createMetadataRefusals, refusalLifetimeMs } from '../../src/domain/client-metadata';

const limits = { cacheMinTtlMs: 5 * 60_000, cacheMaxTtlMs: 24 * 3_600_000 };
const now = new Date('2026-12-01T00:00:00Z');

describe('how long a Client ID Metadata Document is used before it is fetched again', () => {
  it.each([
    ['max-age inside the bounds', { 'cache-control': 'public, max-age=3600' }, 3_600_000],
    ['max-age below the minimum', { 'cache-control': 'max-age=10' }, limits.cacheMinTtlMs],
    ['max-age above the maximum', { 'cache-control': 'max-age=31536000' }, limits.cacheMaxTtlMs],
    ['no-store', { 'cache-control': 'no-store' }, limits.cacheMinTtlMs],
    ['no-cache, even with a max-age', { 'cache-control': 'no-cache, max-age=3600' }, limits.cacheMinTtlMs],
    ['Expires against Date', { expires: 'Tue, 01 Dec 2026 02:00:00 GMT', date: 'Tue, 01 Dec 2026 00:00:00 GMT' }, 7_200_000],
    ['Expires in the past', { expires: 'Mon, 30 Nov 2026 00:00:00 GMT' }, limits.cacheMinTtlMs],
    ['an unparsable Expires', { expires: '0' }, limits.cacheMinTtlMs],
    ['no caching headers', {}, limits.cacheMinTtlMs],
  ])('%s', (_what, headers, ms) => {
    expect(cacheLifetimeMs(headers, limits, now)).toBe(ms);
  });
});

describe('how long a refused document is refused again without a fetch', () => {
  it('is the minimum cache lifetime, or 60 s when the minimum is 0', () => {
    expect(refusalLifetimeMs({ cacheMinTtlMs: 5 * 60_000 })).toBe(5 * 60_000);
    expect(refusalLifetimeMs({ cacheMinTtlMs: 10_000 })).toBe(10_000);
    expect(refusalLifetimeMs({ cacheMinTtlMs: 0 })).toBe(60_000);
  });

  it('keeps a refusal until it lapses, per URL', () => {
    const refusals = createMetadataRefusals();
    refusals.set('https://a.example.com/c.json', 'client metadata document: is not valid JSON', new Date(now.getTime() + 60_000));
    expect(refusals.get('https://a.example.com/c.json', now)).toBe('client metadata document: is not valid JSON');
    expect(refusals.get('https://b.example.com/c.json', now)).toBeUndefined();
    expect(refusals.get('https://a.example.com/c.json', new Date(now.getTime() + 60_000))).toBeUndefined();
  });

  it('holds at most its bound of URLs, dropping the oldest first', () => {
    const refusals = createMetadataRefusals(3);
    const until = new Date(now.getTime() + 60_000);
    for (const n of [1, 2, 3, 4]) refusals.set(`https://${n}.example.com/c.json`, `refused ${n}`, until);
    expect([1, 2, 3, 4].map((n) => refusals.get(`https://${n}.example.com/c.json`, now))).toEqual([undefined, 'refused 2', 'refused 3', 'refused 4']);
  });
});
