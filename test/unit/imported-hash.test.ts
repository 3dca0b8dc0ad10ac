import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { importedHashProblem } from '../../src/crypto/imported-hash';
import { FIREBASE_README_EXAMPLE, firebaseScryptHash } from '../helpers/hashes';

const argonOpts = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('importedHashProblem', () => {
  it('accepts the formats GoTrue imports', async () => {
    const good = [
      await bcrypt.hash('pw', 4),
      (await bcrypt.hash('pw', 4)).replace('$2b$', '$2a$'),
      (await bcrypt.hash('pw', 4)).replace('$2b$', '$2y$'),
      await argon2.hash('pw', { ...argonOpts, type: argon2.argon2id }),
      await argon2.hash('pw', { ...argonOpts, type: argon2.argon2i }),
      await argon2.hash('pw', { ...argonOpts, type: argon2.argon2d }),
      '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG',
      firebaseScryptHash('pw'),
      FIREBASE_README_EXAMPLE.hash,
    ];
    for (const h of good) expect(importedHashProblem(h), h).toBeUndefined();
  });

  const fb = firebaseScryptHash('pw');
  it.each([
    ['plain text', 'hunter2', /unsupported format/],
    ['md5', '5f4dcc3b5aa765d61d8327deb882cf99', /unsupported format/],
    ['sha512-crypt', '$6$salt$abc', /unsupported format/],
    ['truncated bcrypt', '$2b$10$abcdefghijklmnopqrstuv', /bcrypt hashes look like/],
    ['bcrypt cost 3', `$2b$03$${'a'.repeat(53)}`, /cost must be from 4/],
    ['bcrypt cost 31', `$2b$31$${'a'.repeat(53)}`, /cost must be from 4 to 16/],
    ['bcrypt $2x$', `$2x$10$${'a'.repeat(53)}`, /bcrypt hashes look like/],
    ['argon2 garbage', '$argon2id$v=19$garbage', /argon2 hashes look like/],
    ['argon2 v=20', '$argon2id$v=20$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub', /version 20/],
    ['argon2 missing t', '$argon2id$v=19$m=1024,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub', /must include m, t and p/],
    ['argon2 keyid', '$argon2id$v=19$m=1024,t=1,p=1,keyid=abc$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub', /m, t and p, each once/],
    ['argon2 2 GiB', '$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub', /argon2 m must be/],
    ['argon2 t=1000', '$argon2id$v=19$m=1024,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub', /argon2 t must be/],
    ['argon2 short salt', '$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$RdescudvJCsgt3ub', /salt/],
    ['argon2 bad base64', '$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRz!21lc2FsdA$RdescudvJCsgt3ub', /salt/],
    ['fbscrypt no params', '$fbscrypt$v=1', /look like/],
    ['fbscrypt v=2', fb.replace('v=1', 'v=2'), /version 2/],
    ['fbscrypt n=30', fb.replace('n=10', 'n=30'), /n must be from 1 to 20/],
    ['fbscrypt r=0', fb.replace('r=4', 'r=0'), /r must be/],
    ['fbscrypt 2 GiB', fb.replace('n=10', 'n=20').replace('r=4', 'r=16'), /1 GiB/],
    ['fbscrypt bad signer key', fb.replace(/sk=[^$]+/, 'sk=not*base64'), /signerKey is not valid base64/],
    ['fbscrypt hash shorter than the key', fb.replace(/\$[^$]+$/, '$AAAA'), /differ in length/],
    ['fbscrypt without sk', fb.replace(/,sk=[^$]+/, ''), /look like/],
    ['too long', `$2b$10$${'a'.repeat(300)}`, /longer than 255/],
  ])('refuses %s', (_name, hash, why) => {
    expect(importedHashProblem(hash)).toMatch(why);
  });
});
