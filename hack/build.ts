/**
 * `npm run build`: bundles src/main.ts (and everything it imports, migrations and package.json included) into
 * plain ES modules in dist/, with source maps. Dependencies stay external (node_modules at run time), the CLI's lazy
 * `import()`s become separate chunks so `version` or `keys` never load the HTTP stack.
 *
 * The freshness contract with ./gotrue: the build is written to a temporary folder and renamed into place, and
 * dist/.built is stamped with the time the build STARTED. ./gotrue runs dist/ only when no file under src/ or db/
 * (nor package.json, tsconfig.json) is newer than that stamp; a file edited during or after the build, added or
 * deleted (its folder's mtime moves) makes ./gotrue run the source through tsx instead.
 */
import { build as esbuild } from 'esbuild';
import { chmodSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
      define: { __TEMPLATES_FROM_BUNDLE__: JSON.stringify('../templates/') },
      chunkNames: '[name]-[hash]',
      logLevel: 'warning',
    });
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const dist = await build(resolve(process.argv[2] ?? ROOT));
  console.log(`built ${dist} in ${Math.round(performance.now() - t0)} ms`);
}
