import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { dropNamespace, migrateToLatest } from '../../src/db/migrate';
import { cleanEnv, freePort, startCliServer, type RunningServer } from '../helpers/cli';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { TcpProxy } from '../helpers/tcp-proxy';

// A real `./gotrue serve` on Postgres whose connections are killed (pg_terminate_backend) or cut (a TCP proxy of
// the test's own between it and Postgres). Postgres only: the faults are those of a network database server;
// the embedded database has no connection to lose. The shared Postgres itself is never stopped.

const SPAWNING = { timeout: 240_000 };
const PASSWORD = 'fault-test-password-1';

interface Reply {
  status: number;
  code?: string;
  retryAfter?: string | null;
  body: Record<string, unknown>;
  ms: number;
}

async function call(url: string, path: string, body?: unknown): Promise<Reply> {
  const started = Date.now();
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, code: json.code as string | undefined, retryAfter: res.headers.get('retry-after'), body: json, ms: Date.now() - started };
}

const signUp = (url: string, tag: string) =>
  call(url, '/signup', { email: `${tag}-${randomBytes(6).toString('hex')}@example.com`, password: PASSWORD });
const refresh = (url: string, token: string) => call(url, '/token?grant_type=refresh_token', { refresh_token: token });

/** A database URL with its own application_name, so a test finds exactly its server's connections. */
function urlNamed(base: string, applicationName: string, hostPort?: string): string {
  const u = new URL(base);
  if (hostPort) u.host = hostPort;
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

/** A reply a client may see while the database is away: a success, or 503 database_unavailable with Retry-After. */
function acceptable(r: Reply): boolean {
  if (r.status >= 200 && r.status < 300) return true;
  return r.status === 503 && r.code === 'database_unavailable' && r.retryAfter !== null;
}

/** Polls `probe` until it succeeds; returns how long that took. */
async function timeUntilOk(probe: () => Promise<Reply>, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await probe().catch(() => undefined);
    if (r && r.status >= 200 && r.status < 300) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`no success within ${limitMs} ms; last: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(onPostgres)('database faults on Postgres', SPAWNING, () => {
  const namespace = `faults_${randomBytes(5).toString('hex')}`;
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  let admin: pg.Client;

  const envFor = (databaseUrl: string, extra: Record<string, string> = {}) =>
    cleanEnv({
      DATABASE_URL: databaseUrl,
      GOTRUE_DB_NAMESPACE: namespace,
      GOTRUE_JWT_SECRET: 'faults-test-secret-that-is-at-least-32-bytes',
      GOTRUE_SITE_URL: 'http://localhost:3000',
      API_EXTERNAL_URL: 'http://localhost:9999',
      GOTRUE_MAILER_AUTOCONFIRM: 'true',
      GOTRUE_RATE_LIMIT_OTP: '1000000',
      GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000',
      GOTRUE_LOG_LEVEL: 'warn',
      ...extra,
    });

  const start = async (env: NodeJS.ProcessEnv) => {
    const cwd = mkdtempSync(join(tmpdir(), 'gotrue-faults-'));
    dirs.push(cwd);
    const server = await startCliServer(cwd, env, freePort());
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 2, dataDir: '' });
    await migrateToLatest(handle);
    await handle.destroy();
    admin = new pg.Client({ connectionString: urlNamed(testDatabaseUrl!, 'gotrue_faults_test_admin') });
    await admin.connect();
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await admin?.end();
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Terminates every backend of `applicationName`; returns how many there were. */
  const terminate = async (applicationName: string) => {
    const r = await admin.query<{ n: string }>(
      'select count(pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [applicationName],
    );
    return Number(r.rows[0]!.n);
  };

  it('survives its connections being terminated under load: no crash, no 5xx but 503 database_unavailable, recovery within seconds', async () => {
    const appName = `gotrue_faults_${randomBytes(4).toString('hex')}`;
    const server = await start(envFor(urlNamed(testDatabaseUrl!, appName), { GOTRUE_DB_MAX_POOL_SIZE: '6' }));
    const replies: Reply[] = [];
    const transportErrors: unknown[] = [];
    let running = true;

    // Each client signs up (autoconfirm gives a session) and then rotates its refresh token, again and again.
    const client = async (n: number) => {
      let token: string | undefined;
      while (running) {
        try {
          const r = token ? await refresh(server.url, token) : await signUp(server.url, `load${n}`);
          replies.push(r);
          if (r.status === 200) token = r.body.refresh_token as string;
          else if (r.status !== 503) token = undefined; // A lost answer to a rotation leaves a used token: start over.
        } catch (err) {
          transportErrors.push(err);
        }
      }
    };
    const load = Promise.all([1, 2, 3, 4, 5, 6].map(client));

    // Let the pool fill, then kill every backend of the server, eight times, 600 ms apart.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const killed: number[] = [];
    for (let i = 0; i < 8; i++) {
      killed.push(await terminate(appName));
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    killed.push(await terminate(appName));
    const recoveryMs = await timeUntilOk(() => signUp(server.url, 'after'), 10_000);
    running = false;
    await load;
    const refreshRecoveryMs = await timeUntilOk(async () => {
      const s = await signUp(server.url, 'check');
      return s.status === 200 ? refresh(server.url, s.body.refresh_token as string) : s;
    }, 10_000);

    // A rotation whose COMMIT reached Postgres just before its connection died was answered 503: the retry with the
    // old token is then a reuse (GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL is 0). An honest 400, not a fault.
    const reused = (r: Reply) => r.status === 400 && r.code === 'refresh_token_already_used';
    const unexpected = replies.filter((r) => !acceptable(r) && !reused(r));
    const summary = {
      killed,
      replies: replies.length,
      ok: replies.filter((r) => r.status < 300).length,
      unavailable: replies.filter((r) => r.status === 503).length,
      reused: replies.filter(reused).length,
      recoveryMs,
      refreshRecoveryMs,
    };
    console.log('terminated under load:', JSON.stringify(summary));

    expect(server.child.exitCode).toBeNull();
    expect(killed.reduce((a, b) => a + b, 0)).toBeGreaterThan(8); // the kills did hit the server's connections
    expect(transportErrors).toEqual([]);
    expect(unexpected.map((r) => [r.status, r.code])).toEqual([]);
    // How many succeed depends on the machine's load (a loaded 2-core box answers a signup in seconds); some must.
    expect(summary.ok).toBeGreaterThan(0);
    expect(recoveryMs).toBeLessThan(5_000);
    expect(server.output().stdout + server.output().stderr).not.toMatch(/Unhandled 'error' event|uncaughtException/);
    expect(server.output().stdout).toMatch(/database connection lost/);
  });

  it('while Postgres is unreachable answers 503 database_unavailable within the connect timeout, /health/ready 503, /health 200; recovers without a restart', async () => {
    const target = new URL(testDatabaseUrl!);
    const proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }).listen();
    try {
      const appName = `gotrue_proxy_${randomBytes(4).toString('hex')}`;
      const server = await start(
        envFor(urlNamed(testDatabaseUrl!, appName, `127.0.0.1:${proxy.port}`), {
          GOTRUE_DB_CONNECT_TIMEOUT: '2s',
          GOTRUE_DB_STATEMENT_TIMEOUT: '1s',
          GOTRUE_RATE_LIMIT_STORE: 'memory',
        }),
      );
      const up = await signUp(server.url, 'proxy');
      expect(up.status).toBe(200);
      expect(await call(server.url, '/health/ready')).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok' } });

      // Cut: open connections dropped, new ones closed at once.
      proxy.set('refuse');
      const cut = await Promise.all([signUp(server.url, 'cut'), refresh(server.url, up.body.refresh_token as string), signUp(server.url, 'cut')]);
      for (const r of cut) expect([r.status, r.code, r.retryAfter]).toEqual([503, 'database_unavailable', '3']);
      expect(Math.max(...cut.map((r) => r.ms))).toBeLessThan(2_000);
      expect(cut[0]!.body).not.toHaveProperty('stack');
      const ready = await call(server.url, '/health/ready');
      expect([ready.status, ready.code]).toEqual([503, 'database_unavailable']);
      expect((await call(server.url, '/auth/v1/health/ready')).status).toBe(503);
      expect((await call(server.url, '/health')).status).toBe(200);

      // Black hole: connections accepted and never answered. The bounds hold: connect timeout, readiness's 2 s.
      proxy.set('blackhole');
      const [hung, hungReady] = await Promise.all([signUp(server.url, 'hole'), call(server.url, '/health/ready')]);
      expect([hung.status, hung.code]).toEqual([503, 'database_unavailable']);
      expect(hung.ms).toBeLessThan(2_000 + 1_500);
      expect([hungReady.status, hungReady.code]).toEqual([503, 'database_unavailable']);
      expect(hungReady.ms).toBeLessThan(2_000 + 1_500);

      // Restore: the same process serves again.
      proxy.set('pass');
      const recoveryMs = await timeUntilOk(() => signUp(server.url, 'back'), 10_000);
      console.log('proxy restored, first success after', recoveryMs, 'ms');
      expect(recoveryMs).toBeLessThan(5_000);
      expect((await call(server.url, '/health/ready')).status).toBe(200);

      // Frozen: the pool's open connections stay open and go silent (a failover that moved the address). A query
      // unanswered past statement_timeout + 2 s drops its connection: 503, not a request held until the 504.
      await Promise.all([signUp(server.url, 'warm'), signUp(server.url, 'warm')]);
      proxy.set('freeze');
      const [frozen, frozenReady] = await Promise.all([signUp(server.url, 'frozen'), call(server.url, '/health/ready')]);
      expect([frozen.status, frozen.code]).toEqual([503, 'database_unavailable']);
      expect(frozen.ms).toBeLessThan(1_000 + 2_000 + 2_000 + 1_500); // statement timeout + grace (+ a connect timeout)
      expect([frozenReady.status, frozenReady.code]).toEqual([503, 'database_unavailable']);
      proxy.set('pass');
      const afterFreezeMs = await timeUntilOk(() => signUp(server.url, 'thawed'), 10_000);
      console.log('proxy unfrozen, first success after', afterFreezeMs, 'ms');
      expect(afterFreezeMs).toBeLessThan(5_000);
      expect(server.child.exitCode).toBeNull();
    } finally {
      await proxy.close();
    }
  });
});
