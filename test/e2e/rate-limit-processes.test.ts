import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { cleanEnv, freePort, runCli, startCliServer, type RunningServer } from '../helpers/cli';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-rl-');

// These spawn two ./gotrue processes each: on a loaded 2-core machine a test can take several times its idle time.
const SPAWNING = { timeout: 180_000 };
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const LIMIT = 4;

/** POSTs a wrong code to /verify on each server in turn (cheap: one indexed lookup) and returns the statuses. */
async function verifyInTurn(servers: RunningServer[], count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${servers[i % servers.length]!.url}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'signup', token_hash: 'no-such-token-hash' }),
    });
    statuses.push(res.status);
  }
  return statuses;
}

/** Starts a server per env; if one fails to start, stops those that did before failing. */
async function startAll(cwd: string, envs: NodeJS.ProcessEnv[]): Promise<RunningServer[]> {
  const started = await Promise.allSettled(envs.map((env) => startCliServer(cwd, env, freePort())));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    for (const s of servers) await s.stop();
    throw failed.reason;
  }
  return servers;
}

// Two processes on one database need a server both connect to; the embedded PGlite is one process's own.
describe.runIf(onPostgres)('two ./gotrue serve processes on one Postgres (Postgres only: PGlite serves one process)', SPAWNING, () => {
  const namespace = `rl_${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
  });

  it('share one limit through the rate_limits table: the requests over it are refused by either process', async () => {
    const cwd = tempDir();
    const env = cleanEnv({
      DATABASE_URL: testDatabaseUrl ?? '',
      GOTRUE_DB_NAMESPACE: namespace,
      GOTRUE_JWT_SECRET: 'rate-limit-test-secret-at-least-32-bytes',
      GOTRUE_SITE_URL: 'http://localhost:3000',
      API_EXTERNAL_URL: 'http://localhost:9999',
      GOTRUE_RATE_LIMIT_VERIFY: String(LIMIT),
    });
    expect((await runCli(['migrate'], cwd, env)).code).toBe(0);
    const servers = await startAll(cwd, [env, env]);
    try {
      const statuses = await verifyInTurn(servers, LIMIT + 2);
      expect(statuses.slice(0, LIMIT).every((s) => s !== 429 && s < 500)).toBe(true);
      expect(statuses.slice(LIMIT)).toEqual([429, 429]);
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});

// Also Postgres only: two spawned servers need a database each can open, and on the PGlite run each would first
// create an embedded database of its own (about 30 s apiece on the shared machine). Redis sharing between two
// stores in one process is tested on both runs (test/integration/rate-limits.test.ts).
describe.runIf(onPostgres)('two ./gotrue serve processes on one Redis (Postgres only: see above)', SPAWNING, () => {
  const namespaces = [`rl_${randomBytes(5).toString('hex')}`, `rl_${randomBytes(5).toString('hex')}`] as const;
  afterAll(async () => {
    for (const namespace of namespaces) {
      const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
      await dropNamespace(handle);
      await handle.destroy();
    }
  });

  it('share one limit under their key prefix, though each has a database schema of its own', async () => {
    const cwd = tempDir();
    const base = {
      DATABASE_URL: testDatabaseUrl ?? '',
      GOTRUE_JWT_SECRET: 'rate-limit-test-secret-at-least-32-bytes',
      GOTRUE_SITE_URL: 'http://localhost:3000',
      API_EXTERNAL_URL: 'http://localhost:9999',
      GOTRUE_RATE_LIMIT_STORE: 'redis',
      GOTRUE_RATE_LIMIT_REDIS_URL: REDIS_URL,
      GOTRUE_RATE_LIMIT_KEY_PREFIX: `t${randomBytes(6).toString('hex')}`,
      GOTRUE_RATE_LIMIT_VERIFY: String(LIMIT),
    };
    const envs = namespaces.map((ns) => cleanEnv({ ...base, GOTRUE_DB_NAMESPACE: ns }));
    for (const env of envs) expect((await runCli(['migrate'], cwd, env)).code).toBe(0);
    const servers = await startAll(cwd, envs);
    try {
      const statuses = await verifyInTurn(servers, LIMIT + 2);
      expect(statuses.slice(0, LIMIT).every((s) => s !== 429 && s < 500)).toBe(true);
      expect(statuses.slice(LIMIT)).toEqual([429, 429]);
      for (const s of servers) expect(s.output().stdout).not.toMatch(/store is unreachable/);
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});
