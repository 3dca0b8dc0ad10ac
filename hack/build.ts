/**
 * `npm run build`: bundles src/main.ts (and everything it imports, migrations and package.json included) into
 * plain ES modules in dist/, with source maps. Dependencies stay external (node_modules at run time), the CLI's lazy
 * `import()`s become separate chunks so `version` or `keys` never load the HTTP stack.
 *
 * The freshness contract with ./gotrue: the build is written to a temporary folder and renamed into place, and
 * dist/.built is stamped with the time the build STARTED. ./gotrue runs dist/ only when no file under src/ or db/
 * (nor package.json, tsconfig.json) is newer than that stamp; a file edited during or after the build, added or
 * deleted (its folder's mtime moves) makes ./gotrue run the source through tsx instead.
 *
 * The build also makes dist/pglite-seed.tar.gz (+ pglite-seed.json): a migrated PGlite data directory that a new
 * embedded data folder starts from (src/db/pglite-seed.ts). It is copied from the previous dist/ while the
 * migrations' files and the PGlite version hash the same, else made anew (a few seconds of initdb + migrations).
 */
import { build as esbuild } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseHandle } from '../src/db/database';
import { migrateToLatest, migrationStatus } from '../src/db/migrate';
import { checkSeed, pgliteVersion, SEED_FILE, SEED_META_FILE, seedSourceHash, type SeedMeta } from '../src/db/pglite-seed';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds `root`'s src/main.ts into `root`/dist atomically; returns the folder. */
export async function build(root: string = ROOT): Promise<string> {
  const started = new Date();
  const tmp = mkdtempSync(join(root, '.dist-'));
  try {
    await esbuild({
      absWorkingDir: root,
      entryPoints: { main: 'src/main.ts' },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      // The bundle sits one folder below the repository root (src/mailer/ sits two below).
      define: { __TEMPLATES_FROM_BUNDLE__: JSON.stringify('../templates/'), __SEED_FROM_BUNDLE__: JSON.stringify(`./${SEED_FILE}`) },
      chunkNames: '[name]-[hash]',
      logLevel: 'warning',
    });
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    await writeSeed(root, tmp);
    chmodSync(tmp, 0o755); // mkdtemp makes it private; the image runs as another user
    const stamp = join(tmp, '.built');
    writeFileSync(stamp, `${started.toISOString()}\n`);
    utimesSync(stamp, started, started);
    const dist = join(root, 'dist');
    const old = `${tmp}-old`;
    try {
      renameSync(dist, old);
    } catch {
      // no previous build
    }
    renameSync(tmp, dist);
    rmSync(old, { recursive: true, force: true });
    return dist;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The namespace the seed is made for: GoTrue's and the configuration's default. */
export const SEED_NAMESPACE = 'auth';

/** Writes the seed into `out`: the previous build's when its source hash is unchanged, else a new one. */
async function writeSeed(root: string, out: string): Promise<void> {
  const sourceHash = seedSourceHash(join(root, 'db/migrations'));
  const prev = join(root, 'dist');
  const seed = checkSeed(join(prev, SEED_FILE), SEED_NAMESPACE);
  if (typeof seed === 'object' && 'meta' in seed && seed.meta.sourceHash === sourceHash) {
    copyFileSync(join(prev, SEED_FILE), join(out, SEED_FILE));
    copyFileSync(join(prev, SEED_META_FILE), join(out, SEED_META_FILE));
    return;
  }
  await makeSeed(out, { sourceHash });
}

/**
 * Makes a seed in `out`: a migrated in-memory PGlite dumped as a tarball, and its SeedMeta. `prepare` runs on the
 * migrated database before the dump (tests plant a row there).
 */
export async function makeSeed(
  out: string,
  o: { sourceHash: string; namespace?: string; prepare?: (h: DatabaseHandle) => Promise<void> },
): Promise<SeedMeta> {
  const namespace = o.namespace ?? SEED_NAMESPACE;
  const h = await openDatabase({ url: undefined, namespace, maxPoolSize: 1, dataDir: 'memory://seed' });
  try {
    await migrateToLatest(h);
    await o.prepare?.(h);
    const applied = (await migrationStatus(h)).filter((m) => m.executedAt).map((m) => m.name);
    const tar = new Uint8Array(await (await h.dumpDataDir!()).arrayBuffer());
    const meta: SeedMeta = {
      format: 1,
      pglite: pgliteVersion(),
      namespace,
      migrations: applied,
      sourceHash: o.sourceHash,
      sha256: createHash('sha256').update(tar).digest('hex'),
    };
    writeFileSync(join(out, SEED_FILE), tar);
    writeFileSync(join(out, SEED_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    return meta;
  } finally {
    await h.destroy();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const dist = await build(resolve(process.argv[2] ?? ROOT));
  console.log(`built ${dist} in ${Math.round(performance.now() - t0)} ms`);
}
