import { decodeBase64Strict } from './base64';
import { FBSCRYPT_PREFIX, parseFirebaseScrypt } from './firebase-scrypt';

/** `users.encrypted_password` is varchar(255). */
const MAX_ENCODED_LENGTH = 255;

/**
 * Cost bounds for imported hashes: generous for real exports (bcrypt 10–14, argon2 up to a few hundred MiB), but a
 * hash past them would let one sign-in stall the server beyond the request timeout or exhaust its memory.
 */
export const IMPORT_LIMITS = {
  bcryptMaxCost: 16,
  argon2MaxMemoryKiB: 1 << 20,
  argon2MaxTime: 64,
  argon2MaxParallelism: 16,
};

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(i|d|id)\$v=(\d+)\$([^$]+)\$([^$]+)\$([^$]+)$/;

function argon2Problem(encoded: string): string | undefined {
  const m = ARGON2.exec(encoded);
  if (!m) return 'argon2 hashes look like $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>';
  const [, , version, paramText, salt, hash] = m;
  if (version !== '19' && version !== '16') return `argon2 version ${version} is not supported (v=19 or v=16)`;
  const params = new Map<string, number>();
  for (const part of paramText!.split(',')) {
    const kv = /^([mtp])=(\d{1,10})$/.exec(part);
    if (!kv || params.has(kv[1]!)) return 'argon2 parameters must be m, t and p, each once, with whole-number values';
    params.set(kv[1]!, Number(kv[2]));
  }
  const [mem, time, par] = [params.get('m'), params.get('t'), params.get('p')];
  if (mem === undefined || time === undefined || par === undefined) return 'argon2 parameters must include m, t and p';
  if (par < 1 || par > IMPORT_LIMITS.argon2MaxParallelism) return `argon2 p must be from 1 to ${IMPORT_LIMITS.argon2MaxParallelism}`;
  if (time < 1 || time > IMPORT_LIMITS.argon2MaxTime) return `argon2 t must be from 1 to ${IMPORT_LIMITS.argon2MaxTime}`;
  if (mem < 8 * par || mem > IMPORT_LIMITS.argon2MaxMemoryKiB) return `argon2 m must be from 8×p to ${IMPORT_LIMITS.argon2MaxMemoryKiB} KiB`;
  const saltBytes = decodeBase64Strict(salt!);
  const hashBytes = decodeBase64Strict(hash!);
  if (!saltBytes || saltBytes.length < 8) return 'argon2 salt must be base64 of at least 8 bytes';
  if (!hashBytes || hashBytes.length < 4) return 'argon2 hash must be base64 of at least 4 bytes';
  return undefined;
}

/**
 * Why an admin-supplied `password_hash` cannot be stored, or undefined when it is a well-formed bcrypt
 * ($2a$/$2b$/$2y$), argon2 ($argon2i$/$argon2d$/$argon2id$) or Firebase scrypt ($fbscrypt$) hash within the cost
 * bounds. Only the format is checked: nothing here can tell which password it hashes.
 */
export function importedHashProblem(encoded: string): string | undefined {
  if (encoded.length > MAX_ENCODED_LENGTH) return `the hash is longer than ${MAX_ENCODED_LENGTH} characters`;
  if (encoded.startsWith('$argon2')) return argon2Problem(encoded);
  if (encoded.startsWith(FBSCRYPT_PREFIX)) {
    const parsed = parseFirebaseScrypt(encoded);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  if (encoded.startsWith('$2')) {
    const m = BCRYPT.exec(encoded);
    if (!m) return 'bcrypt hashes look like $2b$10$ followed by 53 characters of bcrypt base64';
    const cost = Number(m[1]);
    if (cost < 4 || cost > IMPORT_LIMITS.bcryptMaxCost) return `bcrypt cost must be from 4 to ${IMPORT_LIMITS.bcryptMaxCost}`;
    return undefined;
  }
  return 'unsupported format: expected bcrypt ($2a$, $2b$, $2y$), argon2 ($argon2i$, $argon2d$, $argon2id$) or Firebase scrypt ($fbscrypt$)';
}
