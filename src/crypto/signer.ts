import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { errors as jose, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import jwt from 'jsonwebtoken';
import type { JwtAlgorithm, JwtKeyConfig } from '../config/jwt-keys';
import type { Clock } from './clock';
import { headerOf, JwtError, type JwtClaims } from './jwt';

export { JwtError, type JwtClaims } from './jwt';

/** A public signing key as /.well-known/jwks.json lists it: never an `oct` key, never private parts. */
export type PublicJwk = JsonWebKey & { kty: string; kid: string; alg: string; use: 'sig'; key_ops: ['verify'] };

/** Signs access tokens and verifies the tokens callers present. Held as `deps.signer`. */
export interface Signer {
  /**
   * Signs the claims with the signing key, adding `iat` (from the clock) when absent as jsonwebtoken always did.
   * The header carries `alg`, `typ` and the key's `kid`. `opts.alg` picks another key of the set that can sign
   * with that algorithm (a resource server's choice, issue 15); `opts.typ` replaces `JWT` (RFC 9068: `at+jwt`).
   */
  sign(claims: JwtClaims, opts?: SignOptions): Promise<string>;
  /** Verifies signature (key picked by `kid`, its algorithm pinned), expiry and shape; rejects with JwtError. */
  verify(token: string): Promise<JwtClaims>;
  /** The public keys of the key set (asymmetric keys only). */
  jwks(): { keys: PublicJwk[] };
  /** The `alg` values verify accepts, the signing key's first. */
  readonly algorithms: readonly JwtAlgorithm[];
}

export interface SignOptions {
  alg?: JwtAlgorithm | undefined;
  typ?: string | undefined;
}

/** What a signer is built from: config.jwt once its secret is resolved. */
export interface SignerSettings {
  /** The HS256 secret (GOTRUE_JWT_SECRET): signs when `keys` is empty, verifies HS256 tokens no key claims. */
  secret: string;
  /** kid of the secret's tokens (GOTRUE_JWT_KEY_ID). */
  keyId?: string | undefined;
  keys: readonly JwtKeyConfig[];
  validMethods: readonly JwtAlgorithm[];
}

interface Key {
  alg: JwtAlgorithm;
  sign(claims: JwtClaims, typ?: string): Promise<string> | string;
  verify(token: string): Promise<JwtClaims> | JwtClaims;
}

const REFUSED = 'invalid JWT: unable to parse or verify signature, ';
const EXPIRED = `${REFUSED}token has invalid claims: token is expired`;
const refused = (reason: string) => new JwtError(REFUSED + reason);

/**
 * The signer over GOTRUE_JWT_SECRET and GOTRUE_JWT_KEYS, verifying as GoTrue does: a token whose `kid` names a key
 * of the set verifies under that key only; any other HS256 token (no kid, GOTRUE_JWT_KEY_ID, an unknown kid)
 * verifies under the secret; anything else is refused. The header's `alg` must be in GOTRUE_JWT_VALID_METHODS and
 * equal the chosen key's own `alg` (no `none`, no RS/HS confusion).
 *
 * HS256 keeps jsonwebtoken over a KeyObject built once (several times faster than jose's HS256, which goes
 * through WebCrypto); RS256, ES256 and EdDSA go through jose (jsonwebtoken has no EdDSA).
 */
export function createSigner(s: SignerSettings, clock: Clock): Signer {
  const secret = hs256Key(Buffer.from(s.secret, 'utf8'), s.keyId, clock);
  const byKid = new Map<string, Key>();
  /** Per alg, the key that signs it: the signing key for its own alg, else the first key of the set with a private part. */
  const byAlg = new Map<JwtAlgorithm, Key>();
  let signer: Key = secret;
  const publicKeys: PublicJwk[] = [];
  for (const k of s.keys) {
    let key: Key;
    if (k.alg === 'HS256') {
      key = hs256Key(Buffer.from(k.jwk.k!, 'base64url'), k.kid, clock);
    } else {
      const isPrivate = typeof k.jwk.d === 'string';
      const privateKey = isPrivate ? createPrivateKey({ key: k.jwk, format: 'jwk' }) : undefined;
      const publicKey = privateKey ? createPublicKey(privateKey) : createPublicKey({ key: k.jwk, format: 'jwk' });
      key = asymmetricKey(k.alg, k.kid, privateKey, publicKey, clock);
      publicKeys.push(deepFreeze({ ...(publicKey.export({ format: 'jwk' }) as JsonWebKey & { kty: string }), kid: k.kid, alg: k.alg, use: 'sig', key_ops: ['verify'] }));
    }
    byKid.set(k.kid, key);
    if (k.sign) signer = key;
    const canSign = k.alg === 'HS256' ? typeof k.jwk.k === 'string' : typeof k.jwk.d === 'string';
    if (canSign && (k.sign || !byAlg.has(k.alg))) byAlg.set(k.alg, key);
  }
  const valid = new Set<string>(s.validMethods);
  const jwks = deepFreeze({ keys: publicKeys });

  return {
    algorithms: Object.freeze([...s.validMethods]),
    async sign(claims, opts) {
      const key = opts?.alg === undefined || opts.alg === signer.alg ? signer : byAlg.get(opts.alg);
      if (!key) throw new Error(`signer: no key of GOTRUE_JWT_KEYS signs ${opts?.alg}`);
      return key.sign(claims.iat === undefined ? { ...claims, iat: Math.floor(clock.now().getTime() / 1000) } : claims, opts?.typ);
    },
    async verify(token) {
      const header = headerOf(token);
      if (!header) throw refused('jwt malformed');
      const { alg, kid } = header;
      if (typeof alg !== 'string' || !valid.has(alg)) throw refused('invalid algorithm');
      const key = (typeof kid === 'string' ? byKid.get(kid) : undefined) ?? (alg === 'HS256' ? secret : undefined);
      if (!key) throw refused(`unrecognized JWT kid ${typeof kid === 'string' ? kid : '<nil>'} for algorithm ${alg}`);
      if (key.alg !== alg) throw refused('invalid algorithm');
      try {
        return await key.verify(token);
      } catch (err) {
        throw refusal(err);
      }
    },
    jwks: () => jwks,
  };
}

function hs256Key(bytes: Buffer, kid: string | undefined, clock: Clock): Key {
  const key: KeyObject = createSecretKey(bytes);
  const header = kid ? { alg: 'HS256' as const, typ: 'JWT', kid } : { alg: 'HS256' as const, typ: 'JWT' };
  return {
    alg: 'HS256',
    sign: (claims, typ) => jwt.sign(claims, key, { algorithm: 'HS256', header: typ ? { ...header, typ } : header }),
    verify(token) {
      const decoded = jwt.verify(token, key, { algorithms: ['HS256'], clockTimestamp: Math.floor(clock.now().getTime() / 1000) });
      if (typeof decoded !== 'object' || decoded === null) throw new JwtError('invalid JWT: claims are not an object');
      return decoded as JwtClaims;
    },
  };
}

function asymmetricKey(alg: Exclude<JwtAlgorithm, 'HS256'>, kid: string, privateKey: KeyObject | undefined, publicKey: KeyObject, clock: Clock): Key {
  return {
    alg,
    async sign(claims, typ) {
      if (!privateKey) throw new Error(`signer: key "${kid}" has no private part`); // config refuses a signing key without one
      return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg, typ: typ ?? 'JWT', kid }).sign(privateKey);
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, publicKey, { algorithms: [alg], currentDate: clock.now() });
      return payload as JwtClaims;
    },
  };
}


/** A library's refusal in the words verifyAccessToken has always used (jsonwebtoken's reasons). */
function refusal(err: unknown): JwtError {
  if (err instanceof JwtError) return err;
  if (err instanceof jwt.TokenExpiredError || err instanceof jose.JWTExpired) return new JwtError(EXPIRED);
  if (err instanceof jwt.JsonWebTokenError) return refused(err.message);
  if (err instanceof jose.JWSSignatureVerificationFailed) return refused('invalid signature');
  if (err instanceof jose.JOSEAlgNotAllowed) return refused('invalid algorithm');
  if (err instanceof jose.JWTClaimValidationFailed) return refused(err.claim === 'nbf' ? 'jwt not active' : err.message);
  return refused('jwt malformed');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
