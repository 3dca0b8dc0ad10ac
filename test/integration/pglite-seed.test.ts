import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSeed } from '../../hack/build';
import { createApp } from '../../src/app';
import { openDatabase, type DatabaseHandle, type WarnLogger } from '../../src/db/database';
import { migrateDown, migrateToLatest } from '../../src/db/migrate';
import { CREATING_MARKER, readSeed, SEED_FILE, SEED_META_FILE, type SeedMeta } from '../../src/db/pglite-seed';
import { migrations } from '../../db/migrations/index';
import { useTempDirs } from '../helpers/temp-dirs';
import { API_VERSION, testDeps, uniqueEmail } from '../helpers/test-server';

// The embedded database on disk, whatever TEST_DATABASE_URL says: the seed is the embedded default's.
const folder = useTempDirs('gotrue-seed-');

/** A logger that keeps its warnings. */
const recorder = () => {
  const warnings: { obj: object; msg: string }[] = [];
  const logger: WarnLogger = { warn: (obj, msg) => warnings.push({ obj, msg }) };
  return { warnings, logger };
};

const open = (dataDir: string, seedPath: string | false, logger?: WarnLogger) =>
  openDatabase({ url: undefined, namespace: 'auth', maxPoolSize: 1, dataDir, seedPath, logger });

/** The row planted in the seed, or undefined: proves the database came from the seed, not from initdb. */
const probe = async (h: DatabaseHandle) => {
  const r = await sql<{ v: string }>`select v from public.seed_probe`.execute(h.root).catch(() => undefined);
  return r?.rows[0]?.v;
};

let seedDir: string;
let seedPath: string;
let meta: SeedMeta;

beforeAll(async () => {
  seedDir = folder();
  seedPath = join(seedDir, SEED_FILE);
  meta = await makeSeed(seedDir, {
    sourceHash: 'test',
    prepare: async (h) => {
      await sql`create table public.seed_probe (v text); insert into public.seed_probe values ('from the seed')`.execute(h.root);
    },
  });
}, 120_000);

/** A copy of the seed with its meta changed by `edit` (and `tar` in place of the tarball). */
const variant = (edit: (m: SeedMeta) => SeedMeta, tar: Buffer = readFileSync(seedPath)) => {
  const dir = folder();
  writeFileSync(join(dir, SEED_FILE), tar);
  writeFileSync(join(dir, SEED_META_FILE), JSON.stringify(edit({ ...meta })));
  return join(dir, SEED_FILE);
};

describe('the pre-initialised embedded database (seed)', () => {
  it('makes a new data folder from the seed: migrations are current, the marker is gone, and it serves a sign-up', async () => {
    const dir = folder();
    const h = await open(dir, seedPath);
    try {
      expect(h.created).toBe('seed');
      expect(await probe(h)).toBe('from the seed');
      expect(existsSync(join(dir, CREATING_MARKER))).toBe(false);
      expect(await migrateToLatest(h)).toEqual([]);
      expect((await sql<{ shared_buffers: string }>`show shared_buffers`.execute(h.root)).rows[0]!.shared_buffers).toBe('16MB');
      const res = await request(createApp(testDeps(h))).post('/signup').set(API_VERSION).send({ email: uniqueEmail('seed'), password: 'pass-word-1' });
      expect(res.status).toBe(200);
    } finally {
      await h.destroy();
    }
    const again = await open(dir, seedPath);
    try {
      expect(again.created).toBe('existing');
      const users = await sql<{ n: number }>`select count(*)::int as n from auth.users`.execute(again.root);
      expect(users.rows[0]!.n).toBe(1);
    } finally {
      await again.destroy();
    }
  });

  it('remakes a folder whose first start did not finish (the marker is still there)', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'pgdata'));
    writeFileSync(join(dir, 'pgdata', 'PG_VERSION'), '17\n');
    writeFileSync(join(dir, 'pgdata', 'half-written'), 'junk');
    writeFileSync(join(dir, CREATING_MARKER), 'then the power went out\n');
    const { warnings, logger } = recorder();
    const h = await open(dir, seedPath, logger);
    try {
      expect(h.created).toBe('seed');
      expect(await probe(h)).toBe('from the seed');
      expect(existsSync(join(dir, 'pgdata', 'half-written'))).toBe(false);
      expect(existsSync(join(dir, CREATING_MARKER))).toBe(false);
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('did not finish')]);
    } finally {
      await h.destroy();
    }
  });

  it('falls back to initdb on a corrupt seed, warns, and the folder migrates as usual', async () => {
    const tar = readFileSync(seedPath);
    tar[tar.length >> 1]! ^= 0xff;
    const corrupt = variant((m) => m, tar);
    const { warnings, logger } = recorder();
    const dir = folder();
    const h = await open(dir, corrupt, logger);
    try {
      expect(h.created).toBe('initdb');
      expect(await probe(h)).toBeUndefined();
      expect(await migrateToLatest(h)).toEqual(Object.keys(migrations));
      expect(existsSync(join(dir, CREATING_MARKER))).toBe(false);
      expect(warnings).toEqual([{ obj: expect.objectContaining({ reason: expect.stringContaining('SHA-256') }), msg: expect.stringContaining('running initdb') }]);
    } finally {
      await h.destroy();
    }
  }, 120_000);

  it('uses no seed where there is none (a source checkout without a build), silently', () => {
    const { warnings, logger } = recorder();
    expect(readSeed(join(folder(), SEED_FILE), 'auth', logger)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it.each([
    ['another PGlite version', (m: SeedMeta) => ({ ...m, pglite: '0.0.1' }), 'made by PGlite 0.0.1'],
    ['another namespace', (m: SeedMeta) => ({ ...m, namespace: 'other' }), 'namespace "other"'],
    ['a migration this build does not know', (m: SeedMeta) => ({ ...m, migrations: [...m.migrations, '29991231000000_future'] }), '29991231000000_future'],
    ['an unknown format', (m: SeedMeta) => ({ ...m, format: 2 as unknown as 1 }), 'unknown seed format'],
  ])('refuses a seed made with %s', (_, edit, reason) => {
    const { warnings, logger } = recorder();
    expect(readSeed(variant(edit), 'auth', logger)).toBeUndefined();
    expect(warnings).toEqual([{ obj: expect.objectContaining({ reason: expect.stringContaining(reason) }), msg: expect.any(String) }]);
  });

  it('takes a seed older than the code: the migrations it lacks run at start', async () => {
    const olderDir = folder();
    const older = await makeSeed(olderDir, { sourceHash: 'older', prepare: async (h) => void (await migrateDown(h)) });
    const names = Object.keys(migrations);
    expect(older.migrations).toEqual(names.slice(0, -1));
    const h = await open(folder(), join(olderDir, SEED_FILE));
    try {
      expect(h.created).toBe('seed');
      expect(await migrateToLatest(h)).toEqual(names.slice(-1));
    } finally {
      await h.destroy();
    }
  }, 120_000);
});
