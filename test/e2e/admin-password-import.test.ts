import { GoTrueAdminApi } from '@supabase/auth-js';
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIREBASE_README_EXAMPLE, firebaseScryptHash } from '../helpers/hashes';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';
import { serviceRoleJwt } from '../helpers/tokens';

const server = useTestApp({ listen: true });
const { db } = server;
let admin: GoTrueAdminApi;

beforeAll(() => {
  const key = serviceRoleJwt(server.deps);
  admin = new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { apikey: key, Authorization: `Bearer ${key}` } });
});

const client = () => server.client();
const storedHash = async (id: string) =>
  (await db.db.selectFrom('users').select('encrypted_password').where('id', '=', id).executeTakeFirstOrThrow()).encrypted_password;
/** The test server's argon2id parameters (TEST_ARGON2), as node-argon2 writes them. */
const OURS = /^\$argon2id\$v=19\$m=1024,p=1,t=1\$/;

const PASSWORD = 'the imported pässword';
const formats: [string, () => Promise<string>][] = [
  ['bcrypt $2b$ (cost 10, as GoTrue)', () => bcrypt.hash(PASSWORD, 10)],
  ['bcrypt $2a$', async () => (await bcrypt.hash(PASSWORD, 4)).replace(/^\$2b\$/, '$2a$')],
  ['bcrypt $2y$ (PHP)', async () => (await bcrypt.hash(PASSWORD, 5)).replace(/^\$2b\$/, '$2y$')],
  ['argon2id m=64 MiB t=3 p=4', () => argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 4 })],
  ['argon2id at our own parameters but v=16', () => argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1, version: 0x10 })],
  ['argon2i m=4 MiB t=2', () => argon2.hash(PASSWORD, { type: argon2.argon2i, memoryCost: 4096, timeCost: 2, parallelism: 1 })],
  ['argon2d m=2 MiB t=4 p=2 with a 16-byte hash', () => argon2.hash(PASSWORD, { type: argon2.argon2d, memoryCost: 2048, timeCost: 4, parallelism: 2, hashLength: 16 })],
  ['Firebase scrypt n=14 r=8 p=1 (Firebase’s defaults)', async () => firebaseScryptHash(PASSWORD, { n: 14, r: 8, p: 1 })],
  ['Firebase scrypt n=12 r=4 p=2, empty separator', async () => firebaseScryptHash(PASSWORD, { n: 12, r: 4, p: 2, separator: Buffer.alloc(0) })],
];

describe(`password_hash import through auth-js (${dbKind})`, () => {
  it.each(formats)('%s: the user signs in with the original password and is rehashed to our argon2id', async (_name, make) => {
    const hash = await make();
    const email = uniqueEmail('imported');
    const created = await admin.createUser({ email, password_hash: hash, email_confirm: true });
    expect(created.error).toBeNull();
    const id = created.data.user!.id;
    expect(await storedHash(id)).toBe(hash);

    const wrong = await client().signInWithPassword({ email, password: 'not the password' });
    expect(wrong.error?.code).toBe('invalid_credentials');
    expect(await storedHash(id)).toBe(hash);

    const first = await client().signInWithPassword({ email, password: PASSWORD });
    expect(first.error).toBeNull();
    expect(first.data.user?.id).toBe(id);
    expect(await storedHash(id)).toMatch(OURS);
    expect(await argon2.verify((await storedHash(id))!, PASSWORD)).toBe(true);

    expect((await client().signInWithPassword({ email, password: PASSWORD })).error).toBeNull();
  });

  it('imports Firebase’s published example, which then signs in', async () => {
    const email = uniqueEmail('firebase');
    const created = await admin.createUser({ email, password_hash: FIREBASE_README_EXAMPLE.hash, email_confirm: true });
    expect(created.error).toBeNull();
    expect((await client().signInWithPassword({ email, password: FIREBASE_README_EXAMPLE.password })).error).toBeNull();
    expect(await storedHash(created.data.user!.id)).toMatch(OURS);
  });

  it('updateUserById takes a password_hash too, ending the user’s sessions', async () => {
    const email = uniqueEmail('rehash');
    const { data } = await admin.createUser({ email, password: 'first-password', email_confirm: true });
    const session = (await client().signInWithPassword({ email, password: 'first-password' })).data.session!;
    const updated = await admin.updateUserById(data.user!.id, { password_hash: await bcrypt.hash(PASSWORD, 4) });
    expect(updated.error).toBeNull();
    expect((await client().refreshSession({ refresh_token: session.refresh_token })).error?.code).toBe('refresh_token_not_found');
    expect((await client().signInWithPassword({ email, password: 'first-password' })).error?.code).toBe('invalid_credentials');
    expect((await client().signInWithPassword({ email, password: PASSWORD })).error).toBeNull();
  });

  it.each([
    ['plain text', 'hunter2'],
    ['a truncated bcrypt hash', '$2b$10$abc'],
    ['an argon2 hash with a keyid', '$argon2id$v=19$m=1024,t=1,p=1,keyid=k1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub'],
    ['a Firebase hash without its signer key', '$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95'],
  ])('refuses %s with 400 validation_failed and stores nothing', async (_name, hash) => {
    const email = uniqueEmail('malformed');
    const r = await admin.createUser({ email, password_hash: hash });
    expect([r.error?.status, r.error?.code]).toEqual([400, 'validation_failed']);
    expect(r.error?.message).toMatch(/^Invalid password hash: /);
    expect(await db.db.selectFrom('users').select('id').where('email', '=', email).execute()).toEqual([]);
  });

  it('refuses a password and a password_hash together', async () => {
    const r = await admin.createUser({ email: uniqueEmail(), password: 'pass-word-1', password_hash: await bcrypt.hash('x', 4) });
    expect([r.error?.status, r.error?.code, r.error?.message]).toEqual([400, 'validation_failed', 'Only a password or a password hash should be provided']);
  });
});
