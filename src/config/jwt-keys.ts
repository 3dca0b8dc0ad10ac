import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { parseList } from './parsers';

/** The JWS algorithms GOTRUE_JWT_KEYS and GOTRUE_JWT_VALID_METHODS may name. */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'HS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** One key of GOTRUE_JWT_KEYS, checked: its material imports as the key type its `alg` needs. */
export interface JwtKeyConfig {
  kid: string;
  alg: JwtAlgorithm;
  /** `key_ops` holds "sign": this key signs new tokens (exactly one key does); the others only verify. */
  sign: boolean;
  /** The JWK as configured, private parts included when given. */
  jwk: JsonWebKey;
}

/** The key type (and curve) each algorithm needs. */
const SHAPE: Record<JwtAlgorithm, { kty: string; crv?: string; text: string }> = {
  RS256: { kty: 'RSA', text: 'kty "RSA"' },
  ES256: { kty: 'EC', crv: 'P-256', text: 'kty "EC" with crv "P-256"' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', text: 'kty "OKP" with crv "Ed25519"' },
  HS256: { kty: 'oct', text: 'kty "oct"' },
};

const isAlgorithm = (v: unknown): v is JwtAlgorithm => typeof v === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(v);
const algorithmList = JWT_ALGORITHMS.join(', ');

/**
 * GOTRUE_JWT_KEYS, GoTrue's format: a JSON array of JWKs, each with `kid`, `alg` and `key_ops`. The one key whose
 * key_ops holds "sign" signs (GoTrue refuses none and refuses two); every key verifies tokens carrying its kid.
 * A verify-only key may be given as its public JWK. Unset or `[]` = no key set: the HS256 secret signs.
 * Returns the keys or one problem; problems never quote key material.
 */
export function parseJwtKeys(text: string | undefined): { keys: JwtKeyConfig[]; problem?: string } {
  if (text === undefined || text.trim() === '') return { keys: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { keys: [], problem: 'is not valid JSON (expected a JSON array of JWKs: [{"kid": ..., "alg": ..., "key_ops": ["sign", "verify"], ...}])' };
  }
  if (!Array.isArray(data)) return { keys: [], problem: 'expected a JSON array of JWKs, e.g. [{"kid": ..., "alg": ..., ...}]' };
  const keys: JwtKeyConfig[] = [];
  for (const [i, item] of data.entries()) {
    const checked = checkKey(item, i + 1);
    if ('problem' in checked) return { keys: [], problem: checked.problem };
    if (keys.some((k) => k.kid === checked.key.kid)) return { keys: [], problem: `kid "${checked.key.kid}" appears twice` };
    keys.push(checked.key);
  }
  const signing = keys.filter((k) => k.sign);
  if (keys.length > 0 && signing.length === 0) {
    return { keys: [], problem: 'no key has "sign" in its key_ops: exactly one key must sign (generate one with ./gotrue keys generate)' };
  }
  if (signing.length > 1) {
    return {
      keys: [],
      problem: `keys ${signing.map((k) => `"${k.kid}"`).join(' and ')} all have "sign" in their key_ops: exactly one key signs; keep the others as ["verify"]`,
    };
  }
  return { keys };
}

function checkKey(item: unknown, n: number): { key: JwtKeyConfig } | { problem: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return { problem: `key ${n} is not a JSON object (a JWK)` };
  const jwk = item as JsonWebKey;
  const kid = jwk['kid'];
  if (typeof kid !== 'string' || kid.trim() === '') return { problem: `key ${n} has no "kid" (every key needs a key id; tokens name it)` };
  const name = `key "${kid}"`;
  const alg = jwk['alg'];
  if (!isAlgorithm(alg)) {
    return { problem: `${name}: "alg" ${alg === undefined ? 'is missing' : `${JSON.stringify(alg)} is not supported`} (expected one of ${algorithmList})` };
  }
  const shape = SHAPE[alg];
  if (jwk.kty !== shape.kty || (shape.crv !== undefined && jwk.crv !== shape.crv)) return { problem: `${name}: alg ${alg} needs ${shape.text}` };
  const ops = jwk.key_ops;
  if (ops !== undefined && (!Array.isArray(ops) || ops.length === 0 || !ops.every((o) => o === 'sign' || o === 'verify'))) {
    return { problem: `${name}: "key_ops" must be a list of "sign" and "verify"` };
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') return { problem: `${name}: "use" must be "sig"` };
  const sign = ops?.includes('sign') ?? false;
  const material = alg === 'HS256' ? 'k' : 'd';
  const hasPrivate = typeof jwk[material] === 'string' && jwk[material] !== '';
  if (alg === 'HS256') {
    if (!hasPrivate) return { problem: `${name}: an "oct" key needs its secret "k"` };
    if (Buffer.from(jwk.k!, 'base64url').length < 32) return { problem: `${name}: an HS256 key must be at least 32 bytes` };
    return { key: { kid, alg, sign, jwk } };
  }
  if (sign && !hasPrivate) return { problem: `${name} signs ("sign" in key_ops) but its private part "d" is missing` };
  let key: KeyObject;
  try {
    key = hasPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return { problem: `${name}: the key material does not import as ${hasPrivate ? 'a private' : 'a public'} ${shape.text} key` };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (alg === 'RS256' && (bits === undefined || bits < 2048)) return { problem: `${name}: an RSA key must be at least 2048 bits` };
  return { key: { kid, alg, sign, jwk } };
}

/**
 * GOTRUE_JWT_VALID_METHODS: the `alg` values a token may carry. GoTrue defaults it to the algorithms of its key set;
 * here the HS256 secret also verifies (tokens without a kid, the anon and service_role keys), so the default is the
 * key set's algorithms plus HS256. Listing the methods without HS256 stops accepting the secret's tokens.
 */
export function parseValidMethods(text: string | undefined, keys: JwtKeyConfig[]): { methods: JwtAlgorithm[]; problem?: string } {
  const signing = keys.find((k) => k.sign)?.alg ?? 'HS256';
  if (text === undefined || text.trim() === '') {
    return { methods: [...new Set<JwtAlgorithm>([signing, ...keys.map((k) => k.alg), 'HS256'])] };
  }
  const listed = parseList(text);
  const unknown = listed.filter((m) => !isAlgorithm(m));
  if (listed.length === 0 || unknown.length > 0) {
    return { methods: [], problem: `expected a comma-separated list of ${algorithmList}${unknown.length > 0 ? `; got ${unknown.map((u) => `"${u}"`).join(', ')}` : ''}` };
  }
  if (!listed.includes(signing)) return { methods: [], problem: `must include ${signing}, the algorithm of the signing key, or new tokens would be refused` };
  const methods = listed as JwtAlgorithm[];
  return { methods: [signing, ...new Set(methods.filter((m) => m !== signing))] };
}
