import argon2 from 'argon2';
import { FBSCRYPT_PREFIX, verifyFirebaseScrypt } from './firebase-scrypt';

/** argon2id parameters; the defaults are OWASP's minimum (m=19 MiB, t=2, p=1). */
export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface PasswordCheck {
  valid: boolean;
  /** The hash is valid but not argon2id at our parameters: store a new one. */
  needsRehash: boolean;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(encoded: string | null | undefined, password: string): Promise<PasswordCheck>;
  /** Spends the time a real verify would, for callers with no user to check (no account enumeration). */
  burn(password: string): Promise<void>;
}

/**
 * argon2id for new hashes; verification also accepts bcrypt ($2a$/$2b$/$2y$), argon2i/d/id and Firebase scrypt
 * ($fbscrypt$), as GoTrue users and admin imports bring; any of those that verifies asks for a rehash. All three
 * hash on libuv's thread pool, never on the event loop.
 */
export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  const opts = { type: argon2.argon2id as 2, ...params };
  let decoy: Promise<string> | undefined;

  async function verify(encoded: string | null | undefined, password: string): Promise<PasswordCheck> {
    if (!encoded) return { valid: false, needsRehash: false };
    try {
      if (encoded.startsWith('$argon2')) {
        const valid = await argon2.verify(encoded, password);
        return { valid, needsRehash: valid && (!encoded.startsWith('$argon2id$') || argon2.needsRehash(encoded, opts)) };
      }
      if (/^\$2[aby]\$\d\d\$/.test(encoded)) {
        // $2y$ is PHP's name for the same algorithm as $2b$.
        const { default: bcrypt } = await import('bcrypt'); // imported hashes only: not loaded at startup
        const valid = await bcrypt.compare(password, encoded.replace(/^\$2y\$/, '$2b$'));
        return { valid, needsRehash: valid };
      }
      if (encoded.startsWith(FBSCRYPT_PREFIX)) {
        const valid = await verifyFirebaseScrypt(encoded, password);
        return { valid, needsRehash: valid };
      }
    } catch {
      // A malformed stored hash never verifies.
    }
    return { valid: false, needsRehash: false };
  }

  return {
    hash: (password) => argon2.hash(password, opts),
    verify,
    async burn(password) {
      decoy ??= argon2.hash('decoy password, never valid', opts);
      await verify(await decoy, password);
    },
  };
}
