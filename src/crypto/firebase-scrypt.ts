import { createCipheriv, scrypt, timingSafeEqual } from 'node:crypto';
import { decodeBase64Strict } from './base64';

/** Firebase's modified scrypt, as exported by `firebase auth:export` and imported by GoTrue (contract §4). */
export interface FirebaseScryptHash {
  /** log2 of scrypt's N. */
  n: number;
  r: number;
  p: number;
  saltSeparator: Buffer;
  signerKey: Buffer;
  salt: Buffer;
  hash: Buffer;
}

export const FBSCRYPT_PREFIX = '$fbscrypt$';

/**
 * Cost bounds: Firebase uses n=14, r=8, p=1 (16 MiB). Beyond these one sign-in could pin a CPU or exhaust memory,
 * so such a hash is refused at import and never verified.
 */
export const FBSCRYPT_LIMITS = { maxN: 20, maxR: 32, maxP: 16, maxMemoryBytes: 1 << 30 };

const FORMAT = /^\$fbscrypt\$v=(\d+),n=(\d+),r=(\d+),p=(\d+)(?:,ss=([^,$]*))?,sk=([^,$]+)\$([^$]+)\$([^$]+)$/;

/**
 * Parses `$fbscrypt$v=1,n=<log2 N>,r=,p=,ss=<separator b64>,sk=<signer key b64>$<salt b64>$<hash b64>`.
 * Returns the parsed hash, or the reason it is unusable (safe to show to an admin).
 */
export function parseFirebaseScrypt(encoded: string): FirebaseScryptHash | string {
  const m = FORMAT.exec(encoded);
  if (!m) return 'Firebase scrypt hashes look like $fbscrypt$v=1,n=…,r=…,p=…,ss=…,sk=…$<salt>$<hash>';
  const [, v, n, r, p, ss = '', sk, salt, hash] = m;
  if (v !== '1') return `Firebase scrypt version ${v} is not supported (only v=1)`;
  const nums = { n: Number(n), r: Number(r), p: Number(p) };
  if (nums.n < 1 || nums.n > FBSCRYPT_LIMITS.maxN) return `Firebase scrypt n must be from 1 to ${FBSCRYPT_LIMITS.maxN}`;
  if (nums.r < 1 || nums.r > FBSCRYPT_LIMITS.maxR) return `Firebase scrypt r must be from 1 to ${FBSCRYPT_LIMITS.maxR}`;
  if (nums.p < 1 || nums.p > FBSCRYPT_LIMITS.maxP) return `Firebase scrypt p must be from 1 to ${FBSCRYPT_LIMITS.maxP}`;
  if (128 * 2 ** nums.n * nums.r > FBSCRYPT_LIMITS.maxMemoryBytes) return 'Firebase scrypt parameters need more than 1 GiB of memory';
  const decoded = { saltSeparator: decodeBase64Strict(ss), signerKey: decodeBase64Strict(sk!), salt: decodeBase64Strict(salt!), hash: decodeBase64Strict(hash!) };
  for (const [name, bytes] of Object.entries(decoded)) {
    if (bytes === undefined) return `Firebase scrypt ${name} is not valid base64`;
  }
  const { saltSeparator, signerKey, salt: saltBytes, hash: hashBytes } = decoded as Record<keyof typeof decoded, Buffer>;
  if (signerKey.length === 0 || saltBytes.length === 0) return 'Firebase scrypt signer key and salt must not be empty';
  // The hash is the signer key encrypted in CTR mode, so it has the key's length; anything else cannot match.
  if (hashBytes.length !== signerKey.length) return 'Firebase scrypt hash and signer key differ in length';
  return { ...nums, saltSeparator, signerKey, salt: saltBytes, hash: hashBytes };
}

function deriveKey(password: string, h: FirebaseScryptHash): Promise<Buffer> {
  const N = 2 ** h.n;
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), Buffer.concat([h.salt, h.saltSeparator]), 32, { N, r: h.r, p: h.p, maxmem: 256 * N * h.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * hash = AES-256-CTR(key = scrypt(password, salt ‖ separator, 2^n, r, p, 32 bytes), IV = 16 zero bytes)(signer key),
 * compared in constant time. scrypt runs on libuv's thread pool.
 */
export async function verifyFirebaseScrypt(encoded: string, password: string): Promise<boolean> {
  const h = parseFirebaseScrypt(encoded);
  if (typeof h === 'string') return false;
  const key = await deriveKey(password, h);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const computed = Buffer.concat([cipher.update(h.signerKey), cipher.final()]);
  return computed.length === h.hash.length && timingSafeEqual(computed, h.hash);
}
