/**
 * npm run bench — the server on Postgres against bare baselines on the same machine, in one run.
 *
 * Measures with autocannon: POST /token (password), POST /token (refresh_token, each connection rotating its own
 * session's token), GET /user, POST /signup; and two baselines: raw argon2id verifies per second at the server's
 * own parameters (the cost floor of a password grant), and a bare Node + pg server doing one primary-key SELECT
 * (the floor of any request that reads the database). Prints req/s, p50/p99 and the ratios against the targets.
 *
 * Env: BENCH_DATABASE_URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION seconds per scenario (10), BENCH_CONNECTIONS (10), GOTRUE_WORKERS (1) for the server.
 * Rate limits are raised for the run; the server logs at info as it would in production (to /dev/null).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import argon2 from 'argon2';
import autocannon from 'autocannon';
import pg from 'pg';
import { OWASP_ARGON2ID } from '../src/crypto/password-hasher';

const root = resolve(import.meta.dirname, '..');
const dbUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const workers = process.env.GOTRUE_WORKERS ?? '1';
const schema = `bench_${randomBytes(4).toString('hex')}`;
const secret = randomBytes(32).toString('base64');
const PASSWORD = 'bench-password-1';

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}
const rows: Row[] = [];
const children: ChildProcess[] = [];

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

function spawnChild(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function run(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

type Requests = autocannon.Options['requests'];
/** Runs a short warm-up (JIT, pools, caches; not counted), then the measured run, each with fresh requests. */
async function measure(name: string, url: string, requests: Requests | (() => Requests)): Promise<Row> {
  const make = typeof requests === 'function' ? requests : () => requests;
  await autocannon({ url, connections, duration: 2, requests: make() });
  const r = await autocannon({ url, connections, duration, requests: make() });
  const row = { name, rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
  rows.push(row);
  process.stderr.write(`  ${name}: ${row.rps.toFixed(0)} req/s (p50 ${row.p50} ms, p99 ${row.p99} ms, non-2xx ${row.non2xx})\n`);
  return row;
}

/** Raw argon2id verifies at the server's parameters, `connections` at a time, for the same duration. */
async function measureArgon2(): Promise<Row> {
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, ...OWASP_ARGON2ID });
  const latencies: number[] = [];
  const loop = async (until: number) => {
    while (Date.now() < until) {
      const t = performance.now();
      if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: connections }, () => loop(Date.now() + 2000)));
  latencies.length = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: connections }, () => loop(start + duration * 1000)));
  const secs = (Date.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!);
  const row = { name: 'baseline: raw argon2id verify', rps: latencies.length / secs, p50: q(0.5), p99: q(0.99), non2xx: 0, errors: 0 };
  rows.push(row);
  process.stderr.write(`  ${row.name}: ${row.rps.toFixed(1)} ops/s (p50 ${row.p50} ms, p99 ${row.p99} ms)\n`);
  return row;
}

async function main(): Promise<void> {
  process.stderr.write(`bench: ${cpus().length} cores, ${connections} connections, ${duration}s per scenario, schema ${schema}\n`);
  const env = {
    DATABASE_URL: dbUrl,
    GOTRUE_DB_NAMESPACE: schema,
    GOTRUE_JWT_SECRET: secret,
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000000',
    GOTRUE_RATE_LIMIT_OTP: '1000000000',
    GOTRUE_RATE_LIMIT_VERIFY: '1000000000',
    GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '1000000000',
    GOTRUE_WORKERS: workers,
    LOG_LEVEL: 'info',
  };
  await run('./gotrue', ['migrate'], env);
  const port = freePort();
  spawnChild('./gotrue', ['serve'], { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`);

  // Seed: one user per connection, each with a session of its own for the refresh scenario.
  const users: { email: string; id: string; access: string; refresh: string }[] = [];
  for (let i = 0; i < connections; i++) {
    const email = `bench-${i}-${schema}@example.com`;
    const res = await fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) });
    const body = (await res.json()) as { access_token: string; refresh_token: string; user: { id: string } };
    if (!res.ok) throw new Error(`seed signup failed: ${res.status} ${JSON.stringify(body)}`);
    users.push({ email, id: body.user.id, access: body.access_token, refresh: body.refresh_token });
  }
  const json = { 'content-type': 'application/json' };

  process.stderr.write('measuring the server\n');
  let n = 0;
  const password = await measure('POST /token password', base, [
    {
      method: 'POST',
      path: '/token?grant_type=password',
      headers: json,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: users[n++ % users.length]!.email, password: PASSWORD }) }),
    },
  ]);

  // Refresh tokens rotate, so no token may be in flight twice: requests take one from a queue and put the rotated
  // one back. autocannon resets per-connection context every pass, so the queue (not the context) holds them.
  // Warm-up and measurement each get sessions of their own (a token in flight when a run stops is lost).
  const signIns = async (count: number) => {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${base}/token?grant_type=password`, { method: 'POST', body: JSON.stringify({ email: users[i % users.length]!.email, password: PASSWORD }) });
      tokens.push(((await res.json()) as { refresh_token: string }).refresh_token);
    }
    return tokens;
  };
  const pools = [await signIns(connections * 2), await signIns(connections * 2)];
  const refresh = await measure('POST /token refresh_token', base, () => {
    const queue = pools.shift()!;
    return [
      {
        method: 'POST',
        path: '/token?grant_type=refresh_token',
        headers: json,
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh_token: queue.shift() ?? 'pool-ran-dry' }) }),
        onResponse: (status, body) => {
          if (status === 200) queue.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
          else if (process.env.BENCH_DEBUG) process.stderr.write(`refresh ${status} ${body}\n`);
        },
      },
    ];
  });
  if (refresh.non2xx > 0) process.stderr.write(`  note: ${refresh.non2xx} refreshes were refused\n`);

  const access = (await (await fetch(`${base}/token?grant_type=password`, { method: 'POST', body: JSON.stringify({ email: users[0]!.email, password: PASSWORD }) })).json()) as { access_token: string };
  const getUser = await measure('GET /user', base, [{ method: 'GET', path: '/user', headers: { authorization: `Bearer ${access.access_token}` } }]);

  let s = 0;
  await measure('POST /signup', base, [
    {
      method: 'POST',
      path: '/signup',
      headers: json,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `new-${s++}-${schema}@example.com`, password: PASSWORD }) }),
    },
  ]);

  process.stderr.write('measuring the baselines\n');
  const argon = await measureArgon2();
  const barePort = freePort();
  const bare = spawn(process.execPath, ['--import', 'tsx', 'hack/bare-pg-server.ts'], {
    cwd: root,
    env: { ...process.env, BENCH_DB_URL: dbUrl, BENCH_SCHEMA: schema, BENCH_PORT: String(barePort), BENCH_POOL: '10' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(bare);
  await waitFor(`http://127.0.0.1:${barePort}/`);
  const barePg = await measure('baseline: bare Node + pg, one PK SELECT', `http://127.0.0.1:${barePort}`, [
    { method: 'GET', path: '/', headers: { 'x-user-id': users[0]!.id } },
  ]);

  const ratios = [
    { what: 'password grant / raw argon2id verify', value: password.rps / argon.rps, target: 0.9 },
    { what: 'GET /user / bare pg', value: getUser.rps / barePg.rps, target: 0.5 },
    { what: 'refresh / bare pg', value: refresh.rps / barePg.rps, target: 0.2 },
  ];
  const out: string[] = [];
  out.push(`| scenario | req/s | p50 ms | p99 ms | non-2xx |`, `|---|---:|---:|---:|---:|`);
  for (const r of rows) out.push(`| ${r.name} | ${r.rps.toFixed(r.rps < 100 ? 1 : 0)} | ${r.p50} | ${r.p99} | ${r.non2xx + r.errors} |`);
  out.push('', `| ratio | measured | target | |`, `|---|---:|---:|---|`);
  for (const r of ratios) out.push(`| ${r.what} | ${r.value.toFixed(2)} | ≥ ${r.target} | ${r.value >= r.target ? 'met' : 'NOT met'} |`);
  process.stdout.write(`\n${out.join('\n')}\n\n(${cpus().length} cores, ${connections} connections, ${duration} s per scenario, GOTRUE_WORKERS=${workers})\n`);
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
}

main().then(
  () => cleanup(),
  async (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    await cleanup();
    process.exitCode = 1;
  },
);
