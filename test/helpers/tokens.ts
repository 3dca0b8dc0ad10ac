import jwt from 'jsonwebtoken';
import { createHmac } from 'node:crypto';
import { systemClock } from '../../src/crypto/clock';
import { createSigner, type Signer } from '../../src/crypto/signer';
import type { Deps } from '../../src/deps';
import { TEST_JWT_SECRET } from './test-server';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** An HS256 JWT signed with any secret and header alg, for refusal tests. */
export function forgeJwt(claims: Record<string, unknown>, secret = TEST_JWT_SECRET, alg = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** A signer over an HS256 secret alone, as the server builds one without GOTRUE_JWT_KEYS. */
export const hs256Signer = (secret = TEST_JWT_SECRET): Signer => createSigner({ secret, keys: [], validMethods: ['HS256'] }, systemClock);

/** A token with `alg: none` and no signature. */
export const unsignedJwt = (claims: Record<string, unknown>) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;

/**
 * An API key as Supabase issues them (role claim, ten-year expiry), HS256 over the server's JWT secret as
 * `./gotrue keys` prints it; synchronous so a test can build headers at module level.
 */
export function apiKeyJwt(deps: Pick<Deps, 'config'>, role: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const kid = deps.config.jwt.keyId;
  return jwt.sign({ iss: 'supabase', role, iat, exp: iat + 3600 * 24 * 365 * 10 }, deps.config.jwt.secret ?? TEST_JWT_SECRET, {
    algorithm: 'HS256',
    ...(kid ? { keyid: kid } : {}),
  });
}

export const serviceRoleJwt = (deps: Pick<Deps, 'config'>) => apiKeyJwt(deps, 'service_role');
