import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2ID } from '../../src/crypto/password-hasher';
import { FIREBASE_README_EXAMPLE, firebaseScryptHash } from '../helpers/hashes';

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const hasher = createPasswordHasher(cheap);

describe('password hasher', () => {
  it('hashes with argon2id at the given parameters and verifies', async () => {
    const h = await hasher.hash('correct horse');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await hasher.verify(h, 'correct horse')).toEqual({ valid: true, needsRehash: false });
    expect(await hasher.verify(h, 'wrong horse')).toEqual({ valid: false, needsRehash: false });
  });

  it('defaults to at least OWASP minimums (m=19 MiB, t=2, p=1)', () => {
    expect(OWASP_ARGON2ID.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(OWASP_ARGON2ID.timeCost).toBeGreaterThanOrEqual(2);
    expect(OWASP_ARGON2ID.parallelism).toBe(1);
  });

  it.each(['2a', '2b', '2y'])('verifies GoTrue bcrypt $%s$ hashes and asks for a rehash', async (variant) => {
    const h = (await bcrypt.hash('imported pw', 4)).replace(/^\$2b\$/, `$${variant}$`);
    expect(await hasher.verify(h, 'imported pw')).toEqual({ valid: true, needsRehash: true });
    expect(await hasher.verify(h, 'other')).toEqual({ valid: false, needsRehash: false });
  });

  it.each([
    ['argon2i', argon2.argon2i],
    ['argon2d', argon2.argon2d],
  ] as const)('verifies imported %s hashes and asks for a rehash', async (_name, type) => {
    const h = await argon2.hash('imported pw', { type, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    expect(await hasher.verify(h, 'imported pw')).toEqual({ valid: true, needsRehash: true });
  });

  it('verifies Firebase scrypt hashes built from the formula and asks for a rehash', async () => {
    const h = firebaseScryptHash('imported pw', { n: 8, r: 2, p: 2, salt: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), separator: Buffer.from('sep') });
    expect(await hasher.verify(h, 'imported pw')).toEqual({ valid: true, needsRehash: true });
    expect(await hasher.verify(h, 'imported pw ')).toEqual({ valid: false, needsRehash: false });
    expect(await hasher.verify(h, '')).toEqual({ valid: false, needsRehash: false });
  });

  it('verifies Firebase’s published scrypt example', async () => {
    expect(await hasher.verify(FIREBASE_README_EXAMPLE.hash, FIREBASE_README_EXAMPLE.password)).toEqual({ valid: true, needsRehash: true });
    expect((await hasher.verify(FIREBASE_README_EXAMPLE.hash, 'user2password')).valid).toBe(false);
  });

  it('never verifies a Firebase scrypt hash whose signer key, salt or separator was changed', async () => {
    const h = firebaseScryptHash('pw');
    const [head, salt, hash] = h.split('$').slice(2);
    const variants = [
      h.replace(/sk=[^$]+/, `sk=${Buffer.from('another made-up signer key of sixty-four bytes, for tests only..').toString('base64')}`),
      h.replace(/ss=[^,]+/, 'ss=CA=='),
      `$fbscrypt$${head}$${Buffer.from('other-salt-16byt').toString('base64')}$${hash}`,
      `$fbscrypt$${head!.replace('n=10', 'n=11')}$${salt}$${hash}`,
    ];
    for (const v of variants) expect((await hasher.verify(v, 'pw')).valid, v).toBe(false);
  });

  it('asks for a rehash of argon2id at other parameters', async () => {
    const h = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 2048, timeCost: 1, parallelism: 1 });
    expect(await hasher.verify(h, 'pw')).toEqual({ valid: true, needsRehash: true });
  });

  it.each([null, '', 'plaintext', '$2b$10$short', '$argon2id$v=19$garbage', '$fbscrypt$v=1'])('never verifies the stored value %j', async (stored) => {
    expect((await hasher.verify(stored, 'plaintext')).valid).toBe(false);
  });

  it('burns time for unknown users without throwing', async () => {
    await expect(hasher.burn('anything')).resolves.toBeUndefined();
  });
});
