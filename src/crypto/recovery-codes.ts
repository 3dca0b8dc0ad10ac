import { createHash } from 'node:crypto';
import type { Random } from './clock';

/**
 * MFA recovery codes: 16 characters of Crockford's base32 alphabet in lowercase (80 random bits each), shown once in
 * this canonical form. With 80 bits a code cannot be guessed offline from its hash, so a fast hash bound to its
 * factor suffices (as GoTrue stores its one-time tokens) and a code is found with one indexed UPDATE.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // 32 symbols: no i, l, o, u
const CODE_LENGTH = 16;

/** A new code; 256 / 32 is whole, so each byte masked to 5 bits is an unbiased symbol. */
export function newRecoveryCode(random: Pick<Random, 'bytes'>): string {
  const bytes = random.bytes(CODE_LENGTH);
  let code = '';
  for (const b of bytes) code += ALPHABET[b & 31];
  return code;
}

/**
 * A code as a user typed it, in canonical form: case, whitespace and `-` ignored; the letters base32 readers
 * confuse with digits (i, l → 1; o → 0) read as those digits, since codes never contain them.
 */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]+/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
}

/** The stored form of a code: SHA-256 of the factor id and the canonical code. */
export function recoveryCodeHash(factorId: string, canonicalCode: string): string {
  return createHash('sha256').update(`${factorId}:${canonicalCode}`).digest('hex');
}
