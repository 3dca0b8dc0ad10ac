import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrations } from '../../db/migrations/index';

/** The slice of a pino logger this file reports to (database.ts, which loads this file, passes its own). */
interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The pre-initialised embedded database: a fresh data folder starts from a tarball of a PGlite data directory that
 * already holds every migration of the build (made by `npm run build`, hack/build.ts), instead of running `initdb`
 * and all migrations inside WebAssembly on first start (most of a first start's time and of its peak memory).
 *
 * The seed is `pglite-seed.tar.gz` (PGlite's `dumpDataDir('gzip')`) with `pglite-seed.json` beside it (SeedMeta).
 * A seed is used only when all of these hold, else the folder is made the normal way (`initdb`):
 * - both files are readable and the tarball's SHA-256 is the one recorded (a truncated or altered file is refused);
 * - it was made by the PGlite version that runs now (a data directory is tied to its Postgres build);
 * - it was made for the configured namespace (GOTRUE_DB_NAMESPACE);
 * - every migration it holds is one this code knows (a seed from a newer build would leave Kysely's migrator with
 *   a migration it cannot find). An older seed is fine: the migrations it lacks run at start as usual.
 */
export interface SeedMeta {
  format: 1;
  /** The @electric-sql/pglite version that made the data directory. */
  pglite: string;
  namespace: string;
  /** The migrations applied in the seed, in order. */
  migrations: string[];
  /** Hash of db/migrations' files and the PGlite version: the build reuses a seed while it is unchanged. */
  sourceHash: string;
  /** SHA-256 (hex) of the tarball. */
  sha256: string;
}

export const SEED_FILE = 'pglite-seed.tar.gz';
export const SEED_META_FILE = 'pglite-seed.json';

/** Set by hack/build.ts: the bundle finds the seed beside itself in dist/. */
declare const __SEED_FROM_BUNDLE__: string | undefined;

/** Where the seed is looked for: dist/ beside the bundle, or the repository's dist/ when running the source. */
export const DEFAULT_SEED_PATH = fileURLToPath(
  new URL(typeof __SEED_FROM_BUNDLE__ === 'string' ? __SEED_FROM_BUNDLE__ : `../../dist/${SEED_FILE}`, import.meta.url),
);

/** The installed PGlite's version (its package.json is not in the package's exports, so it is read beside them). */
export function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The seed at `seedPath` and its SeedMeta when this code may use it for `namespace`, else why not (`absent` when
 * neither file is there: a source checkout without a build). The build reuses the previous build's seed by it.
 */
export function checkSeed(seedPath: string, namespace: string): { meta: SeedMeta; tar: Buffer } | { refused: string } | 'absent' {
  const metaPath = join(dirname(seedPath), SEED_META_FILE);
  if (!existsSync(seedPath) && !existsSync(metaPath)) return 'absent';
  let meta: SeedMeta;
  let tar: Buffer;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as SeedMeta;
    tar = readFileSync(seedPath);
  } catch (err) {
    return { refused: `unreadable: ${(err as Error).message}` };
  }
  if (meta?.format !== 1 || !Array.isArray(meta.migrations)) return { refused: 'unknown seed format' };
  if (createHash('sha256').update(tar).digest('hex') !== meta.sha256) return { refused: 'the tarball does not match its recorded SHA-256' };
  const version = pgliteVersion();
  if (meta.pglite !== version) return { refused: `made by PGlite ${meta.pglite}, running ${version}` };
  if (meta.namespace !== namespace) return { refused: `made for namespace "${meta.namespace}", configured "${namespace}"` };
  const unknown = meta.migrations.filter((m) => !(m in migrations));
  if (unknown.length > 0) return { refused: `holds migrations this build does not know (${unknown.join(', ')})` };
  return { meta, tar };
}

/**
 * The seed at `seedPath` as PGlite's `loadDataDir` takes it, or undefined (with the reason logged as a warning,
 * except for a seed that simply is not there) when it must not be used.
 */
export function readSeed(seedPath: string, namespace: string, logger?: WarnLogger): Blob | undefined {
  const seed = checkSeed(seedPath, namespace);
  if (seed === 'absent') return undefined;
  if ('refused' in seed) {
    logger?.warn({ seed: seedPath, reason: seed.refused }, 'embedded database: not using the pre-initialised seed; running initdb');
    return undefined;
  }
  return new Blob([seed.tar]);
}

/** Hash of the migrations' source files and the PGlite version: what a seed's content depends on. */
export function seedSourceHash(migrationsDir: string, version: string = pgliteVersion()): string {
  const h = createHash('sha256').update(`pglite ${version}\n`);
  for (const f of readdirSync(migrationsDir).sort()) {
    h.update(`${f}\n`).update(readFileSync(join(migrationsDir, f))).update('\n');
  }
  return h.digest('hex');
}

/** Marks a data folder whose `pgdata` is being made; a folder that still has it was never finished. */
export const CREATING_MARKER = 'pgdata.creating';

/**
 * Before opening `dataDir`'s embedded database: true when `pgdata` must be made. A `pgdata` left by a start that
 * died while making it (the marker is still there) or one that is no database (no PG_VERSION) is removed first,
 * and the marker is written (flushed) so a crash from here on is recognised by the next start.
 */
export function beginCreation(dataDir: string, logger?: WarnLogger): boolean {
  const pgdata = join(dataDir, 'pgdata');
  const marker = join(dataDir, CREATING_MARKER);
  const unfinished = existsSync(marker);
  if (!unfinished && existsSync(join(pgdata, 'PG_VERSION'))) return false;
  if (existsSync(pgdata)) {
    if (unfinished) logger?.warn({ data_dir: dataDir }, 'embedded database: a previous first start did not finish; making the database again');
    rmSync(pgdata, { recursive: true, force: true });
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`, { flush: true });
  fsyncPath(dataDir);
  return true;
}

/**
 * After the first successful open of a new `pgdata`: flushes every file in it to disk (the seed's files and
 * initdb's are written without fsync), then removes the marker, so a folder without the marker is a whole one.
 */
export async function finishCreation(dataDir: string): Promise<void> {
  const pgdata = join(dataDir, 'pgdata');
  // Files first, then their folders (a new file's name lives in its folder), all in flight at once: libuv's thread
  // pool runs them side by side and the file system folds them into few journal commits.
  const entries = readdirSync(pgdata, { recursive: true, withFileTypes: true });
  const paths = (dirs: boolean) => entries.filter((e) => (dirs ? e.isDirectory() : e.isFile())).map((e) => join(e.parentPath, e.name));
  await Promise.all(paths(false).map(fsyncAsync));
  await Promise.all([...paths(true), pgdata].map(fsyncAsync));
  rmSync(join(dataDir, CREATING_MARKER), { force: true });
  fsyncPath(dataDir);
}

async function fsyncAsync(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
