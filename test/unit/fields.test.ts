import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { metadata, metadataProblem, newPassword, safeString, uuidParam } from '../../src/http/fields';
import { toApiError } from '../../src/http/error-handler';

const deep = (levels: number) => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe('shared request fields', () => {
  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['a high surrogate at the end', 'x\udbff'],
  ])('a safe string refuses %s', (_name, s) => {
    expect(safeString().safeParse(s).success).toBe(false);
  });

  it('a safe string accepts paired surrogates (emoji) and other text', () => {
    expect(safeString().parse('héllo 👋 世界')).toBe('héllo 👋 世界');
  });

  it('metadata walks without recursion: 100,000 levels is a problem, not a stack overflow', () => {
    expect(metadataProblem(deep(100_000))).toMatch(/nested more than 32 levels/);
  });

  it.each([
    ['33 levels', deep(33), /nested more than 32/],
    ['a NUL in a key', { ['k\u0000']: 1 }, /keys must not contain NUL/],
    ['a surrogate deep in an array', { a: [[{ b: '\ud800' }]] }, /must not contain NUL/],
    ['more than 64 KiB', { blob: 'x'.repeat(65_536) }, /at most 65536 bytes/],
  ])('metadata refuses %s', (_name, value, message) => {
    expect(metadataProblem(value)).toMatch(message);
  });

  it('metadata accepts 32 levels, arrays and null values; null is absent', () => {
    expect(metadataProblem(deep(32))).toBeUndefined();
    expect(metadata().parse({ a: [1, 'x', null, { b: true }], c: null })).toEqual({ a: [1, 'x', null, { b: true }], c: null });
    expect(metadata().parse(null)).toBeUndefined();
    expect(metadata().safeParse([1]).success).toBe(false);
  });

  it('a new password counts bytes, as Go’s len(): 72 pass, 73 and 25 × € (75 bytes) do not, with GoTrue’s bare message', () => {
    const schema = z.object({ password: newPassword() });
    expect(schema.parse({ password: 'p'.repeat(72) }).password).toHaveLength(72);
    for (const p of ['p'.repeat(73), '€'.repeat(25)]) {
      const e = toApiError(schema.safeParse({ password: p }).error);
      expect([e.status, e.code, e.message]).toEqual([400, 'validation_failed', 'Password cannot be longer than 72 characters']);
    }
  });

  it('a path UUID is lower-cased; anything else is GoTrue’s 404 validation_failed', () => {
    const schema = z.object({ user_id: uuidParam('user_id') });
    expect(schema.parse({ user_id: 'ABCDEF00-0000-4000-8000-000000000000' }).user_id).toBe('abcdef00-0000-4000-8000-000000000000');
    const e = toApiError(schema.safeParse({ user_id: 'nope' }).error);
    expect([e.status, e.code, e.message]).toEqual([404, 'validation_failed', 'user_id must be an UUID']);
  });
});
