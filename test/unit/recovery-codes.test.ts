import { describe, expect, it } from 'vitest';
import { newRecoveryCode, normalizeRecoveryCode, recoveryCodeHash } from '../../src/crypto/recovery-codes';

describe('MFA recovery codes (src/crypto/recovery-codes.ts)', () => {
  it('are 16 lowercase Crockford base32 symbols, every symbol reachable', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = newRecoveryCode({ bytes: (n) => Buffer.from(Array.from({ length: n }, (_, j) => (i * 16 + j) % 256)) });
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);
      for (const ch of code) seen.add(ch);
    }
    expect(seen.size).toBe(32);
  });

  it('read as typed: case, spaces and dashes ignored; i, l and o read as 1, 1 and 0', () => {
    const cases: [string, string][] = [
      ['K4M9-X7QP-2AB8-HT3Z', 'k4m9x7qp2ab8ht3z'],
      ['  k4m9 x7qp\t2ab8\nht3z ', 'k4m9x7qp2ab8ht3z'],
      ['--k4m9--', 'k4m9'],
      ['IlO0', '1100'],
      ['', ''],
      ['- -', ''],
    ];
    for (const [typed, canonical] of cases) expect(normalizeRecoveryCode(typed)).toBe(canonical);
  });

  it('hash bound to the factor: the same code of two factors hashes apart', () => {
    expect(recoveryCodeHash('f1', 'k4m9x7qp2ab8ht3z')).toMatch(/^[0-9a-f]{64}$/);
    expect(recoveryCodeHash('f1', 'k4m9x7qp2ab8ht3z')).not.toBe(recoveryCodeHash('f2', 'k4m9x7qp2ab8ht3z'));
  });
});
