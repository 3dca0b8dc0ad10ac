import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error';
import { bannedUntil, parseBanDuration } from '../../src/services/admin/ban';

describe('ban_duration', () => {
  it.each([
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['300ms', 300],
    ['876000h', 876_000 * 3_600_000],
    ['none', 0],
    ['0', 0],
    ['-1h', -3_600_000],
  ])('reads %s as Go does', (text, ms) => {
    expect(parseBanDuration(text)).toBe(ms);
  });

  it.each(['24', '1d', 'forever', '1h30', 'h', '1 h', 'None', '3000000h'])('refuses %j with 400 validation_failed', (text) => {
    let err: unknown;
    try {
      parseBanDuration(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).code]).toEqual([400, 'validation_failed']);
    expect((err as ApiError).message).toMatch(/^invalid format for ban duration/);
  });

  it('bans until now + duration, and a zero duration lifts the ban', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(bannedUntil(now, 3_600_000)?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(bannedUntil(now, 0)).toBeNull();
  });
});
