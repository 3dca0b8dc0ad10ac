import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../../hack/build';
import { openDatabase } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { cleanEnv, freePort } from '../helpers/cli';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const REPO = resolve(__dirname, '../..');
const tempDir = useTempDirs('gotrue-build-');
const namespace = `build_${randomBytes(5).toString('hex')}`;

/**
 * A checkout of this repository in a temporary folder: the launcher, the source, package.json; node_modules holds a
 * link to every installed package except the ones named (so a test can take the tsx loader away, as in the image).
 */
function checkout(without: string[]): string {
  const dir = tempDir();
  for (const f of ['gotrue', 'package.json', 'tsconfig.json']) cpSync(join(REPO, f), join(dir, f));
  for (const d of ['src', 'db', 'templates']) cpSync(join(REPO, d), join(dir, d), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (!without.includes(name)) symlinkSync(join(REPO, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

async function gotrue(dir: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const child = spawn(join(dir, 'gotrue'), args, { cwd: dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout: stdout.trim(), stderr };
}

/** Moves a path's modification time just past the build's stamp, as an edit right after (or during) a build does. */
function touchAfterBuild(dir: string, path: string): void {
  const stamp = statSync(join(dir, 'dist', '.built')).mtimeMs;
  const t = new Date(stamp + 5);
  utimesSync(join(dir, path), t, t);
}

const STALE = /the build in .*dist is older than the source/;

describe('npm run build and ./gotrue', { timeout: 300_000 }, () => {
  afterAll(async () => {
    if (!onPostgres) return;
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
  });

  it('the compiled build runs without the tsx loader: migrate, serve answers /health, SIGTERM stops it', async () => {
    const dir = checkout(['tsx']);
    expect(await gotrue(dir, ['version'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/dependencies are missing/) });
    await build(dir);
    expect(await gotrue(dir, ['version'])).toMatchObject({ code: 0, stdout: '0.1.0' });

    const port = freePort();
    const env = onPostgres
      ? cleanEnv({ DATABASE_URL: testDatabaseUrl!, GOTRUE_DB_NAMESPACE: namespace, GOTRUE_JWT_SECRET: 'build-test-secret-that-is-at-least-32-bytes',
        GOTRUE_SITE_URL: 'http://localhost:3000', API_EXTERNAL_URL: `http://127.0.0.1:${port}` })
      : cleanEnv({ GOTRUE_DB_DATA_DIR: join(dir, 'data') });
    // The migrations run compiled too: `migrate` on Postgres, and the embedded database migrates itself in serve.
    if (onPostgres) expect((await gotrue(dir, ['migrate'], env)).code).toBe(0);
    const child = spawn(join(dir, 'gotrue'), ['serve'], { cwd: dir, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = once(child, 'exit');
    let health: unknown;
    while (health === undefined) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
      health = await fetch(`http://127.0.0.1:${port}/health`).then((r) => (r.ok ? r.json() : undefined), () => undefined);
      if (health === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(health).toMatchObject({ name: 'GoTrue' });
    // The default mail templates are found from dist/ as they are from src/mailer/.
    expect((await fetch(`http://127.0.0.1:${port}/settings`)).status).toBe(200);
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });

  it('a build older than any source file never runs: an edit, a new file or a deleted one makes it stale', async () => {
    const dir = checkout(['tsx']);
    await build(dir);
    expect((await gotrue(dir, ['version'])).code).toBe(0);

    touchAfterBuild(dir, 'src/config/schema.ts'); // an edit after the build, or during it (the stamp is its start)
    const edited = await gotrue(dir, ['version']);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(STALE);

    for (const change of [
      () => writeFileSync(join(dir, 'src', 'features', 'new-file.ts'), 'export {};\n'),
      () => rmSync(join(dir, 'src', 'features', 'new-file.ts')), // its folder's mtime moves
      () => touchAfterBuild(dir, 'package.json'),
    ]) {
      await build(dir);
      expect((await gotrue(dir, ['version'])).code).toBe(0);
      change();
      expect((await gotrue(dir, ['version'])).stderr).toMatch(STALE);
    }
  });

  it('with the tsx loader installed, a stale build falls back to the edited source; a rebuild runs it compiled', async () => {
    const dir = checkout([]);
    await build(dir);
    writeFileSync(join(dir, 'src', 'version.ts'), "export const VERSION: string = 'edited-source';\n");
    expect(await gotrue(dir, ['version'])).toMatchObject({ code: 0, stdout: 'edited-source' });
    await build(dir);
    rmSync(join(dir, 'node_modules', 'tsx')); // now only the build can answer
    expect(await gotrue(dir, ['version'])).toMatchObject({ code: 0, stdout: 'edited-source' });
    // The image layout: no src/ at all, the build runs.
    rmSync(join(dir, 'src'), { recursive: true });
    expect(await gotrue(dir, ['version'])).toMatchObject({ code: 0, stdout: 'edited-source' });
  });
});
