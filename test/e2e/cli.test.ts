import { statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GoTrueClient } from '@supabase/auth-js';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, runCli, startCliServer } from '../helpers/cli';
import { openDatabase } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { migrations } from '../../db/migrations/index';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-cli-');

const authClient = (url: string) =>
  new GoTrueClient({ url: `${url}/auth/v1`, autoRefreshToken: false, persistSession: false, detectSessionInUrl: false });

// These spawn ./gotrue (and start servers): on a loaded 2-core machine a test can take several times its idle time.
const SPAWNING = { timeout: 300_000 };

describe('./gotrue on the embedded default (no DATABASE_URL)', SPAWNING, () => {
  it('first run: generates and keeps a secret, prints keys, serves auth-js, stops on SIGTERM; a restart keeps sessions valid', async () => {
    const cwd = tempDir();
    const env = cleanEnv({ GOTRUE_MAILER_AUTOCONFIRM: 'true' });
    const port = freePort();
    const first = await startCliServer(cwd, env, port);
    const banner = first.output().stderr;
    expect(banner).toMatch(/anon key: +eyJ/);
    expect(banner).toMatch(/service_role key: +eyJ/);
    expect(banner).toMatch(/createClient\('http:\/\/localhost:\d+', 'eyJ/);
    expect(first.output().stdout).toMatch(/embedded database at .*\.gotrue-data/);
    // The build's pre-initialised database (dist/pglite-seed.tar.gz), not initdb; nothing left to migrate.
    expect(first.output().stdout).toMatch(/"created":"seed","applied":\[\]/);
    expect(statSync(join(cwd, '.gotrue-data', 'jwt-secret')).mode & 0o777).toBe(0o600);

    const auth = authClient(first.url);
    const email = `cli-${Date.now()}@example.com`;
    const signUp = await auth.signUp({ email, password: 'pass-word-1' });
    expect(signUp.error).toBeNull();
    const token = signUp.data.session!.access_token;
    expect(await first.stop()).toBe(0);

    const second = await startCliServer(cwd, env, port);
    expect(second.output().stderr).not.toMatch(/anon key/);
    expect(second.output().stdout).toMatch(/"created":"existing"/);
    const again = authClient(second.url);
    const user = await again.getUser(token);
    expect(user.error).toBeNull();
    expect(user.data.user?.email).toBe(email);
    expect((await again.signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();
    expect(await second.stop()).toBe(0);

    const keys = await runCli(['keys'], cwd, env);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toMatch(/^anon: eyJ.*\nservice_role: eyJ/m);
    const status = await runCli(['migrate', 'status'], cwd, env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/applied .* 20261122120000_create_auth_schema/);
  }, 240_000); // four process starts (serve twice, keys, migrate): slow on a loaded machine

  it('answers version and --help, and refuses unknown commands', async () => {
    const cwd = tempDir();
    const version = await runCli(['version'], cwd, cleanEnv());
    expect([version.code, version.stdout.trim()]).toEqual([0, '0.1.0']);
    const help = await runCli(['migrate', '--help'], cwd, cleanEnv());
    expect(help.stdout).toMatch(/up .*down .*status/s);
    expect((await runCli(['frobnicate'], cwd, cleanEnv())).code).toBe(2);
  });

  it('stops with one message listing every configuration problem', async () => {
    const r = await runCli(['serve'], tempDir(), cleanEnv({ DATABASE_URL: 'postgres://x@127.0.0.1:1/x', GOTRUE_JWT_EXP: 'soon' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GOTRUE_JWT_EXP[\s\S]*GOTRUE_JWT_SECRET[\s\S]*GOTRUE_SITE_URL[\s\S]*API_EXTERNAL_URL/);
  });

  it('reads a .env file, the environment winning', async () => {
    const cwd = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(cwd, '.env'), 'GOTRUE_JWT_EXP=notanumber\nGOTRUE_SITE_URL=http://from-file\n');
    expect((await runCli(['keys'], cwd, cleanEnv())).stderr).toMatch(/GOTRUE_JWT_EXP/);
    // keys never creates a secret, so this folder (no embedded database in it) needs one configured.
    const secret = { GOTRUE_JWT_SECRET: 'cli-dotenv-test-secret-that-is-32-bytes' };
    expect((await runCli(['keys'], cwd, cleanEnv({ GOTRUE_JWT_EXP: '60', ...secret }))).code).toBe(0);
  });
});

// These need a Postgres server: several processes migrating one database at once cannot happen on PGlite,
// which one process owns.
// Concurrent migrations and worker processes need a server several processes share; PGlite is one process's.
describe.runIf(onPostgres)('./gotrue migrate on Postgres', SPAWNING, () => {
  const namespace = `cli_${randomBytes(5).toString('hex')}`;
  const env = cleanEnv({
    DATABASE_URL: testDatabaseUrl ?? '',
    GOTRUE_DB_NAMESPACE: namespace,
    GOTRUE_JWT_SECRET: 'cli-test-secret-that-is-at-least-32-bytes',
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
  });
  afterAll(async () => {
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
  });

  it('serve refuses a schema with pending migrations; three concurrent migrates all succeed; migrate is idempotent; down and up work', async () => {
    const cwd = tempDir();
    const refused = await runCli(['serve'], cwd, { ...env, PORT: String(freePort()) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pending migrations.*gotrue migrate/);

    const runs = await Promise.all([1, 2, 3].map(() => runCli(['migrate'], cwd, env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs.filter((r) => /applied 20261122120000/.test(r.stdout))).toHaveLength(1);
    expect((await runCli(['migrate'], cwd, env)).stdout).toMatch(/already up to date/);
    const latest = Object.keys(migrations).at(-1)!;
    expect((await runCli(['migrate', 'down'], cwd, env)).stdout).toContain(`reverted ${latest}`);
    expect((await runCli(['migrate', 'status'], cwd, env)).stdout).toMatch(new RegExp(`pending .*${latest}`));
    expect((await runCli(['migrate', 'up'], cwd, env)).code).toBe(0);

    const server = await startCliServer(cwd, env, freePort());
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
  });

  it('serves from GOTRUE_WORKERS processes sharing one port and stops them all on SIGTERM', async () => {
    const cwd = tempDir();
    expect((await runCli(['migrate'], cwd, env)).code).toBe(0);
    const server = await startCliServer(cwd, { ...env, GOTRUE_WORKERS: '2', GOTRUE_MAILER_AUTOCONFIRM: 'true' }, freePort());
    const auth = authClient(server.url);
    const email = `workers-${Date.now()}@example.com`;
    expect((await auth.signUp({ email, password: 'pass-word-1' })).error).toBeNull();
    for (let i = 0; i < 4; i++) expect((await auth.getUser()).error).toBeNull();
    // Each worker logs its own start line; the second may come up after the first already answers.
    const workerPids = () => new Set([...server.output().stdout.matchAll(/"pid":(\d+)[^\n]*GoTrue API started/g)].map((m) => m[1]));
    for (let i = 0; i < 300 && workerPids().size < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(workerPids().size).toBe(2);
    expect(await server.stop()).toBe(0);
  });
});
