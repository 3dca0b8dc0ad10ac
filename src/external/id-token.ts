import { createHash, timingSafeEqual } from 'node:crypto';
import * as jose from 'jose';
import { ProviderError, type Fetch, type IdTokenSettings } from './types';

/** Why an id_token was refused; the message is safe to send. */
export class IdTokenError extends Error {}

const jwksSets = new Map<string, ReturnType<typeof jose.createRemoteJWKSet>>();

/** One remote key set per JWKS URL, shared (jose caches keys and refetches on an unknown kid). */
function keySet(jwksUri: string, fetchFn: Fetch) {
  let set = jwksSets.get(jwksUri);
  if (!set) {
    set = jose.createRemoteJWKSet(new URL(jwksUri), {
      [jose.customFetch]: (url, options) => fetchFn(url, options as RequestInit),
      timeoutDuration: 10_000,
    });
    jwksSets.set(jwksUri, set);
  }
  return set;
}

/**
 * Verifies an id_token's signature against the provider's JWKS, its issuer, audience (one of ours) and expiry.
 * Asymmetric algorithms only: an HS256 token would be signed with the client secret, which clients hold.
 */
export async function verifyIdToken(
  fetchFn: Fetch,
  token: string,
  settings: IdTokenSettings,
  audiences: string[],
  now: Date,
): Promise<jose.JWTPayload> {
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, keySet(settings.jwksUri, fetchFn), {
      audience: audiences,
      currentDate: now,
      clockTolerance: 30,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    }));
  } catch (err) {
    if (err instanceof jose.errors.JWKSTimeout || (err instanceof TypeError && /fetch/i.test(err.message))) {
      throw new ProviderError('unavailable', 'could not fetch the provider keys', { cause: err });
    }
    if (err instanceof jose.errors.JOSEError) throw new IdTokenError(`Bad ID token: ${idTokenReason(err)}`, { cause: err });
    throw err;
  }
  const iss = payload.iss ?? '';
  const issuerOk = typeof settings.issuer === 'string' ? iss === settings.issuer : settings.issuer(iss);
  if (!issuerOk) throw new IdTokenError('Bad ID token: unexpected issuer');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new IdTokenError('Bad ID token: missing sub claim');
  return payload;
}

function idTokenReason(err: jose.errors.JOSEError): string {
  if (err instanceof jose.errors.JWTExpired) return 'token is expired';
  if (err instanceof jose.errors.JWTClaimValidationFailed) return `${err.claim} claim is invalid`;
  if (err instanceof jose.errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof jose.errors.JWKSNoMatchingKey) return 'no matching signing key';
  return 'malformed token';
}

/** GoTrue's nonce rule: the token carries hex(SHA-256(nonce)) (or the raw nonce, for Facebook). */
export function nonceMatches(claim: string, requestNonce: string, mode: IdTokenSettings['nonce']): boolean {
  const expected = mode === 'raw' ? requestNonce : createHash('sha256').update(requestNonce).digest('hex');
  const a = Buffer.from(claim);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** OIDC at_hash: base64url of the left half of the hash of the access token, the hash named by the alg. */
export function atHashMatches(idToken: string, accessToken: string, atHash: string): boolean {
  const { alg } = jose.decodeProtectedHeader(idToken);
  const bits = alg?.endsWith('384') ? 384 : alg?.endsWith('512') ? 512 : 256;
  const digest = createHash(`sha${bits}`).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url') === atHash;
}
