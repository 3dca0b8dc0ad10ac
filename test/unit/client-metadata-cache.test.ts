import { describe, expect, it } from 'vitest';
import { cacheLifetimeMs } from '../../src/domain/client-metadata';

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
