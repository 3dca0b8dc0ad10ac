/**
 * npx tsx hack/bench-workers.ts — the password grant at GOTRUE_WORKERS=1 and 2 (or BENCH_WORKERS="1,2,4"), on
 * Postgres: req/s, and the server's CPU (primary + workers, utime + stime from /proc) per grant and in cores used.
 * The CPU figures are counted, so they hold on a busy machine where the rates do not: they say whether one process
 * already keeps every core busy (argon2id runs on libuv's thread pool, four threads by default) or leaves cores
 * idle that a second worker could use.
 * Env: BENCH_DATABASE_URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres), BENCH_DURATION (10),
 * BENCH_CONNECTIONS (10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

const root = resolve(import.meta.dirname, '..');
const dbUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const counts = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const schema = `workers_${randomBytes(4).toString('hex')}`;
const PASSWORD = 'bench-password-1';
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** utime + stime (seconds) of a process and its descendants. */
function cpuOfTree(pid: number): number {
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        const f = readFileSync(`/proc/${d}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return { pid: Number(d), ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / TICKS };
      } catch {
        return undefined;
      }
    })
    .filter((x) => x !== undefined);
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) {
        tree.add(s.pid);
        grew = true;
      }
    }
  }
  return stats.filter((s) => tree.has(s.pid)).reduce((a, s) => a + s.cpu, 0);
}

async function one(workers: number): Promise<string> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    GOTRUE_DB_NAMESPACE: schema,
    GOTRUE_JWT_SECRET: 'bench-workers-secret-bench-workers-secret',
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000000',
    GOTRUE_RATE_LIMIT_OTP: '1000000000',
    GOTRUE_WORKERS: String(workers),
    LOG_LEVEL: 'info',
    PORT: String(port),
  };
  await once(spawn('./gotrue', ['migrate'], { cwd: root, env, stdio: 'ignore' }), 'exit');
  // node directly (not ./gotrue's exec), so the pid is the primary's.
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; !(await fetch(`${base}/health`).catch(() => undefined))?.ok; i++) {
      if (i > 300) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const emails = Array.from({ length: connections }, (_, i) => `w${workers}-${i}-${schema}@example.com`);
    for (const email of emails) await fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) });
    let n = 0;
    const requests: autocannon.Request[] = [
      {
        method: 'POST',
        path: '/token?grant_type=password',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: emails[n++ % emails.length], password: PASSWORD }) }),
      },
    ];
    await autocannon({ url: base, connections, duration: 2, requests });
    const cpu0 = cpuOfTree(server.pid!);
    const t0 = performance.now();
    const r = await autocannon({ url: base, connections, duration, requests });
    const secs = (performance.now() - t0) / 1000;
    const cpu = cpuOfTree(server.pid!) - cpu0;
    const ok = r['2xx'];
    return `| ${workers} | ${(ok / r.duration).toFixed(1)} | ${r.latency.p50} | ${((cpu / ok) * 1000).toFixed(1)} | ${(cpu / secs).toFixed(2)} | ${r.non2xx} |`;
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  }
}

async function main(): Promise<void> {
  const rows = ['| GOTRUE_WORKERS | req/s | p50 ms | server CPU ms a grant | server cores busy | non-2xx |', '|---:|---:|---:|---:|---:|---:|'];
  try {
    for (const w of counts) rows.push(await one(w));
  } finally {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
  process.stdout.write(`${rows.join('\n')}\n\n(${cpus().length} cores, ${connections} connections, ${duration} s per run; UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'})\n`);
}

main().catch((err) => {
  process.stderr.write(`bench-workers failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
