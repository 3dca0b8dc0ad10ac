import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Clock } from './clock';

export type JwtClaims = Record<string, unknown> & { exp?: number; iat?: number; sub?: string; role?: string };

/** Why a token was refused; the message is safe to send. */
export class JwtError extends Error {}

export interface JwtService {
  sign(claims: JwtClaims): string;
  /** Verifies signature (HS256 only), expiry and shape; throws JwtError. */
  verify(token: string): JwtClaims;
}

/**
 * HS256 with a KeyObject built once: handing jsonwebtoken a string secret re-derives the key on every call.
 * The verifier pins the algorithm, so `alg: none` and RS/HS confusion are refused.
 */
export function createHs256Jwt(secret: string, clock: Clock, keyId?: string): JwtService {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const header = keyId ? { alg: 'HS256' as const, typ: 'JWT', kid: keyId } : { alg: 'HS256' as const, typ: 'JWT' };
  return {
    sign(claims) {
      return jwt.sign(claims, key, { algorithm: 'HS256', header });
    },
    verify(token) {
      try {
        const decoded = jwt.verify(token, key, {
          algorithms: ['HS256'],
          clockTimestamp: Math.floor(clock.now().getTime() / 1000),
        });
        if (typeof decoded !== 'object' || decoded === null) throw new JwtError('invalid JWT: claims are not an object');
        return decoded as JwtClaims;
      } catch (err) {
        if (err instanceof JwtError) throw err;
        if (err instanceof jwt.TokenExpiredError) throw new JwtError('invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired');
        throw new JwtError('invalid JWT: unable to parse or verify signature, ' + ((err as Error).message ?? 'invalid token'));
      }
    },
  };
}
