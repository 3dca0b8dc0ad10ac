/**
 * npx tsx hack/cold-start.ts — cold start and memory of `./gotrue serve`, as a user runs it.
 *
 * For each mode (the build in dist/, the source through tsx) and each database (Postgres at COLD_DATABASE_URL,
 * migrated first; the embedded default in a fresh folder), RUNS times: spawn ./gotrue serve, poll GET /health every
 * 5 ms, report milliseconds from spawn to the first 200; then the resident set (VmRSS) once idle, and its peak
 * (VmHWM) after COLD_LOAD_SECONDS of autocannon on GET /health, GET /settings and POST /token (a wrong password,
 * which hashes) with 10 connections. Prints medians.
 *
 * Env: COLD_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres), COLD_RUNS (5), COLD_LOAD_SECONDS (5),
 * COLD_MODES (build,source), COLD_DATABASES (postgres,embedded).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';

const root = resolve(import.meta.dirname, '..');
const dbUrl = process.env.COLD_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const runs = Number(process.env.COLD_RUNS ?? 5);
const loadSeconds = Number(process.env.COLD_LOAD_SECONDS ?? 5);
const modes = (process.env.COLD_MODES ?? 'build,source').split(',');
const databases = (process.env.COLD_DATABASES ?? 'postgres,embedded').split(',');
const secret = 'cold-start-secret-0123456789abcdef0123456789';

const freePort = () => 20000 + Math.floor(Math.random() * 20000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const memKb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function env(mode: string, database: string, port: number, dataDir: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000',
    GOTRUE_RATE_LIMIT_VERIFY: '1000000', GOTRUE_RATE_LIMIT_OTP: '1000000' };
  delete e.DATABASE_URL;
  delete e.GOTRUE_FROM_SOURCE;
  if (mode === 'source') e.GOTRUE_FROM_SOURCE = '1';
  if (database === 'postgres') Object.assign(e, { DATABASE_URL: dbUrl, GOTRUE_JWT_SECRET: secret,
    GOTRUE_SITE_URL: 'http://localhost:3000', API_EXTERNAL_URL: `http://127.0.0.1:${port}` });
  else e.GOTRUE_DB_DATA_DIR = dataDir;
  return e;
}

async function start(mode: string, database: string, dataDir: string): Promise<{ child: ChildProcess; ms: number; url: string }> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(join(root, 'gotrue'), ['serve'], { cwd: dataDir, env: env(mode, database, port, join(dataDir, 'data')), stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, ms: performance.now() - t0, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

if (databases.includes('postgres')) {
  const m = spawn(join(root, 'gotrue'), ['migrate'], { env: env('build', 'postgres', 1, ''), stdio: 'inherit' });
  await once(m, 'exit');
}
for (const database of databases) {
  for (const mode of modes) {
    const starts: number[] = [];
    const idle: number[] = [];
    const loaded: number[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'gotrue-cold-'));
      try {
        const { child, ms, url } = await start(mode, database, dir);
        starts.push(ms);
        if (i === 0) {
          await new Promise((r) => setTimeout(r, 1000));
          idle.push(memKb(child.pid!, 'VmRSS') / 1024);
          await autocannon({ url, connections: 10, duration: loadSeconds, requests: [
            { method: 'GET', path: '/health' },
            { method: 'GET', path: '/settings' },
            { method: 'POST', path: '/token?grant_type=password', headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password-1' }) },
          ] });
          loaded.push(memKb(child.pid!, 'VmHWM') / 1024);
        }
        await stop(child);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`${database.padEnd(8)} ${mode.padEnd(6)} start→healthy median ${median(starts).toFixed(0)} ms ` +
      `(${starts.map((s) => s.toFixed(0)).join(', ')}); RSS idle ${idle[0]?.toFixed(0)} MB, peak under load ${loaded[0]?.toFixed(0)} MB`);
  }
}
