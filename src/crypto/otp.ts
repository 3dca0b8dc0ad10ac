import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from './clock';

/** One-time codes and their stored form (contract §6.1). */

/** `length` uniformly random decimal digits (rejection sampling keeps every digit equally likely). */
export function generateOtp(random: Pick<Random, 'bytes'>, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of random.bytes(length * 2)) {
      if (b < 250) out += String(b % 10);
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * The stored token: hex SHA-224 of the identifier (email lower-cased, or phone digits) followed by the OTP.
 * The mail's link carries this value and {{ .Token }} shows the OTP, so one mail works both ways.
 */
export function otpTokenHash(identifier: string, otp: string): string {
  return createHash('sha224').update(identifier + otp).digest('hex');
}

export const PKCE_PREFIX = 'pkce_';

/** PKCE email flows store (and link) `pkce_` + hash, so GET /verify knows to answer `?code=`. */
export const withFlowPrefix = (hash: string, pkce: boolean): string => (pkce ? PKCE_PREFIX + hash : hash);
export const withoutFlowPrefix = (token: string): string => (token.startsWith(PKCE_PREFIX) ? token.slice(PKCE_PREFIX.length) : token);

/** Constant-time equality of two token strings (length differences return false at once; lengths are public). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
