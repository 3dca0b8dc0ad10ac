import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { concurrencyLimit } from './concurrency-limit';
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
 * hash on libuv's thread pool, never on the event loop, and at most `parallel` at once (one per core by default,
 * concurrency-limit.ts): more would only queue inside libuv while holding their memory, and would take the pool's
 * remaining threads from file and DNS work.
 */
export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID, parallel: number = availableParallelism()): PasswordHasher {
  const opts = { type: argon2.argon2id as 2, ...params };
  const limit = concurrencyLimit(parallel);
  let decoy: Promise<string> | undefined;

  function verify(encoded: string | null | undefined, password: string): Promise<PasswordCheck> {
    if (!encoded) return Promise.resolve({ valid: false, needsRehash: false });
    return limit.run(() => verifyNow(encoded, password));
  }

  async function verifyNow(encoded: string, password: string): Promise<PasswordCheck> {
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
    hash: (password) => limit.run(() => argon2.hash(password, opts)),
    verify,
    async burn(password) {
      decoy ??= limit.run(() => argon2.hash('decoy password, never valid', opts));
      await verify(await decoy, password);
    },
  };
}
