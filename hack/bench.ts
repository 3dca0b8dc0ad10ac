/**
 * npm run bench — the server on Postgres against bare baselines on the same machine, in one run.
 *
 * Measures with autocannon: POST /token (password), POST /token (refresh_token, each connection rotating its own
 * session's token), GET /user, POST /signup, GET /health; and the baselines of issue 14's targets: raw argon2id
 * verifies and hashes per second at the server's own parameters (the floors of a password grant and a sign-up), a
 * bare Node + pg server (hack/bare-pg-server.ts: one primary-key SELECT; HS256 verify + one SELECT; HS256 verify +
 * three SELECTs; a refresh-shaped transaction) and a bare Express hello (hack/bare-express.ts). Prints req/s,
 * p50/p99 and the ratios against the targets.
 *
 * Env: BENCH_DATABASE_URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION seconds per scenario (10), BENCH_CONNECTIONS (10), GOTRUE_WORKERS (1) for the server.
 *
 * BENCH_USERS=1000000 (opt-in) runs the scale scenario instead: the per-request scenarios that read the user table
 * (password grant, GET /user, signup, OTP request, admin list by page, by cursor and filtered, a deep page) on an
 * empty schema and on one seeded with that many users (identities, sessions and refresh tokens, one statement-level
 * bulk load: hack/seed-users.ts), two servers side by side, rounds interleaved (see `scale`).
 * Rate limits are raised for the run; the server logs at info as it would in production (to /dev/null).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import argon2 from 'argon2';
import autocannon from 'autocannon';
import pg from 'pg';
import { SignJWT } from 'jose';
import { rotatingRefresh } from './refresh-requests';
import { OWASP_ARGON2ID } from '../src/crypto/password-hasher';
import { seedEmail, seedUsers } from './seed-users';

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
/** Schemas this run made besides `schema`, dropped at the end. */
const extraSchemas: string[] = [];

/** A port the kernel just handed out (listen on 0, then close): free unless someone takes it in between. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

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

/** Raw argon2id verifies (or hashes) at the server's parameters, `connections` at a time, for the same duration. */
async function measureArgon2(op: 'verify' | 'hash'): Promise<Row> {
  const options = { type: argon2.argon2id as 2, ...OWASP_ARGON2ID };
  const hash = await argon2.hash(PASSWORD, options);
  const latencies: number[] = [];
  const once = async () => {
    if (op === 'hash') await argon2.hash(PASSWORD, options);
    else if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
  };
  const loop = async (until: number) => {
    while (Date.now() < until) {
      const t = performance.now();
      await once();
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
  const row = { name: `baseline: raw argon2id ${op}`, rps: latencies.length / secs, p50: q(0.5), p99: q(0.99), non2xx: 0, errors: 0 };
  rows.push(row);
  process.stderr.write(`  ${row.name}: ${row.rps.toFixed(1)} ops/s (p50 ${row.p50} ms, p99 ${row.p99} ms)\n`);
  return row;
}

const serverEnv = () => ({
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
});

async function main(): Promise<void> {
  if (process.env.BENCH_USERS) return scale(Number(process.env.BENCH_USERS));
  process.stderr.write(`bench: ${cpus().length} cores, ${connections} connections, ${duration}s per scenario, schema ${schema}\n`);
  const env = serverEnv();
  await run('./gotrue', ['migrate'], env);
  const port = await freePort();
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
  const refresh = await measure('POST /token refresh_token', base, () =>
    rotatingRefresh(pools.shift()!, (status, body) => {
      if (process.env.BENCH_DEBUG) process.stderr.write(`refresh ${status} ${body}\n`);
    }),
  );
  if (refresh.non2xx > 0) process.stderr.write(`  note: ${refresh.non2xx} refreshes were refused\n`);

  const access = (await (await fetch(`${base}/token?grant_type=password`, { method: 'POST', body: JSON.stringify({ email: users[0]!.email, password: PASSWORD }) })).json()) as { access_token: string };
  const getUser = await measure('GET /user', base, [{ method: 'GET', path: '/user', headers: { authorization: `Bearer ${access.access_token}` } }]);

  let s = 0;
  const signup = await measure('POST /signup', base, [
    {
      method: 'POST',
      path: '/signup',
      headers: json,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `new-${s++}-${schema}@example.com`, password: PASSWORD }) }),
    },
  ]);
  const health = await measure('GET /health', base, [{ method: 'GET', path: '/health' }]);

  process.stderr.write('measuring the baselines\n');
  const argon = await measureArgon2('verify');
  const argonHash = await measureArgon2('hash');
  const barePort = await freePort();
  const bare = spawn(process.execPath, ['--import', 'tsx', 'hack/bare-pg-server.ts'], {
    cwd: root,
    env: { ...process.env, BENCH_DB_URL: dbUrl, BENCH_SCHEMA: schema, BENCH_PORT: String(barePort), BENCH_POOL: '10', BENCH_SECRET: secret },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(bare);
  await waitFor(`http://127.0.0.1:${barePort}/`);
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const bearer = { authorization: `Bearer ${access.access_token}` };
  await measure('baseline: bare Node + pg, one PK SELECT', bareUrl, [{ method: 'GET', path: '/', headers: { 'x-user-id': users[0]!.id } }]);
  const bareJwt1 = await measure('baseline: bare Node + pg, HS256 verify + one PK SELECT', bareUrl, [{ method: 'GET', path: '/jwt-1', headers: bearer }]);
  const bareJwt3 = await measure('baseline: bare Node + pg, HS256 verify + three SELECTs', bareUrl, [{ method: 'GET', path: '/jwt-3', headers: bearer }]);
  // One session per connection, as the refresh scenario has: the bare transaction locks the session row.
  const sessionIds = await sessionsOf(users.map((u) => u.id));
  let r = 0;
  const bareRefresh = await measure('baseline: bare refresh-shaped transaction', bareUrl, [
    { method: 'POST', path: '/refresh', setupRequest: (req) => ({ ...req, headers: { 'x-session-id': sessionIds[r++ % sessionIds.length]! } }) },
  ]);
  const expressPort = await freePort();
  children.push(
    spawn(process.execPath, ['--import', 'tsx', 'hack/bare-express.ts'], { cwd: root, env: { ...process.env, BENCH_PORT: String(expressPort) }, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  await waitFor(`http://127.0.0.1:${expressPort}/health`);
  const hello = await measure('baseline: bare Express hello', `http://127.0.0.1:${expressPort}`, [{ method: 'GET', path: '/health' }]);

  const ratios = [
    { what: 'password grant / raw argon2id verify', value: password.rps / argon.rps, target: 0.9 },
    { what: 'signup / raw argon2id hash', value: signup.rps / argonHash.rps, target: 0.9 },
    { what: 'GET /user / bare HS256 + one SELECT', value: getUser.rps / bareJwt1.rps, target: 0.6 },
    { what: 'GET /user / bare HS256 + three SELECTs', value: getUser.rps / bareJwt3.rps, target: 0 },
    { what: 'refresh / bare refresh transaction', value: refresh.rps / bareRefresh.rps, target: 0.8 },
    { what: 'GET /health / bare Express hello', value: health.rps / hello.rps, target: 0.9 },
  ];
  const out: string[] = [];
  out.push(`| scenario | req/s | p50 ms | p99 ms | non-2xx |`, `|---|---:|---:|---:|---:|`);
  for (const row of rows) out.push(`| ${row.name} | ${row.rps.toFixed(row.rps < 100 ? 1 : 0)} | ${row.p50} | ${row.p99} | ${row.non2xx + row.errors} |`);
  out.push('', `| ratio | measured | target | |`, `|---|---:|---:|---|`);
  for (const x of ratios) out.push(`| ${x.what} | ${x.value.toFixed(2)} | ${x.target ? `≥ ${x.target}` : '—'} | ${!x.target ? '' : x.value >= x.target ? 'met' : 'NOT met'} |`);
  process.stdout.write(`\n${out.join('\n')}\n\n(${cpus().length} cores, ${connections} connections, ${duration} s per scenario, GOTRUE_WORKERS=${workers})\n`);
}

/** The newest session of each user (the bench users' sign-up sessions). */
async function sessionsOf(userIds: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const res = await client.query<{ id: string }>(
      `select distinct on (user_id) id from "${schema}".sessions where user_id = any($1::uuid[]) order by user_id, created_at desc`,
      [userIds],
    );
    return res.rows.map((x) => x.id);
  } finally {
    await client.end();
  }
}

/**
 * The scale scenario (BENCH_USERS): every per-request path that reads the user table, on an empty schema and on one
 * seeded with `count` users; the target is each within 20% of its empty-schema figure. Two servers run side by side
 * (one per schema) and each scenario alternates between them for BENCH_ROUNDS rounds (3; the order flips each round),
 * so a machine whose load drifts during the run weighs on both figures alike; the medians are compared. The seed
 * ends with VACUUM ANALYZE and a CHECKPOINT, before any measuring. BENCH_SEEDED_SCHEMA names a schema seeded earlier
 * (migrated, then hack/seed-users.ts) to use instead of seeding again; it is kept afterwards.
 */
async function scale(count: number): Promise<void> {
  const seeded = process.env.BENCH_SEEDED_SCHEMA;
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  const full = seeded ?? `${schema}_full`;
  if (!seeded) extraSchemas.push(full);
  process.stderr.write(`bench (scale): ${cpus().length} cores, ${connections} connections, ${duration}s per scenario and round, ${rounds} rounds, ${count} users, schemas ${schema} (empty) and ${full}\n`);
  const json = { 'content-type': 'application/json' };
  const admin = { authorization: `Bearer ${await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('2h').sign(Buffer.from(secret))}` };
  const envFor = (ns: string) => ({
    ...serverEnv(),
    GOTRUE_DB_NAMESPACE: ns,
    GOTRUE_RATE_LIMIT_EMAIL_SENT: '1000000000',
    GOTRUE_SMTP_MAX_FREQUENCY: '0s',
    GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: 'true',
  });

  let seedNote = `schema ${full} seeded earlier`;
  if (!seeded) {
    await run('./gotrue', ['migrate'], envFor(full));
    process.stderr.write(`seeding ${count} users into ${full}\n`);
    const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id as 2, ...OWASP_ARGON2ID });
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    const t = performance.now();
    const steps = await seedUsers(client, full, count, hash);
    await client.end();
    seedNote = `seed ${((performance.now() - t) / 1000).toFixed(0)} s: ${JSON.stringify(steps)}`;
    process.stderr.write(`  ${seedNote}; ${seedEmail(count)} is the last\n`);
  }

  /** A server on `ns` with this run's bench users (signed up, or signed in when a kept schema has them). */
  const serverOn = async (ns: string) => {
    const env = envFor(ns);
    await run('./gotrue', ['migrate'], env);
    const port = await freePort();
    spawnChild('./gotrue', ['serve'], { ...env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const users: { email: string; access: string }[] = [];
    for (let i = 0; i < connections; i++) {
      const email = `bench-${i}-${schema}@example.com`;
      const res = await fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) });
      const body = (await res.json()) as { access_token: string };
      if (!res.ok) throw new Error(`bench user sign-up failed on ${ns}: ${res.status} ${JSON.stringify(body)}`);
      users.push({ email, access: body.access_token });
    }
    return { base, users };
  };
  const servers = { empty: await serverOn(schema), full: await serverOn(full) };

  /** The scenarios, each a function of the server it runs against. */
  type Side = Awaited<ReturnType<typeof serverOn>>;
  const counters = { n: 0, s: 0, o: 0 };
  const cursors = new Map<string, string>();
  const scenarios: [string, (x: Side, tag: string) => Promise<Requests>][] = [
    ['POST /token password', async ({ users }) => [
      { method: 'POST', path: '/token?grant_type=password', headers: json, setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: users[counters.n++ % users.length]!.email, password: PASSWORD }) }) },
    ]],
    ['GET /user', async ({ users }) => [{ method: 'GET', path: '/user', headers: { authorization: `Bearer ${users[0]!.access}` } }]],
    ['POST /signup', async (_x, tag) => [
      { method: 'POST', path: '/signup', headers: json, setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `new-${tag}-${counters.s++}-${schema}@example.com`, password: PASSWORD }) }) },
    ]],
    ['POST /otp (existing user)', async ({ users }) => [
      { method: 'POST', path: '/otp', headers: json, setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: users[counters.o++ % users.length]!.email }) }) },
    ]],
    ['GET /admin/users page 1 (with count)', async () => [{ method: 'GET', path: '/admin/users?page=1&per_page=50', headers: admin }]],
    ['GET /admin/users page 200 (offset 9,950)', async () => [{ method: 'GET', path: '/admin/users?page=200&per_page=50', headers: admin }]],
    ['GET /admin/users cursor, first page', async () => [{ method: 'GET', path: '/admin/users?limit=50', headers: admin }]],
    ['GET /admin/users cursor, resumed', async ({ base }) => {
      if (!cursors.has(base)) {
        const deep = (await (await fetch(`${base}/admin/users?limit=1000&sort=created_at%20asc`, { headers: admin })).json()) as { pagination: { next_cursor?: string } };
        cursors.set(base, deep.pagination.next_cursor ?? '');
      }
      const cursor = cursors.get(base)!;
      return [{ method: 'GET', path: `/admin/users?limit=50&sort=created_at%20asc${cursor ? `&cursor=${cursor}` : ''}`, headers: admin }];
    }],
    ['GET /admin/users?filter=<one user’s email>', async ({ users }) => [{ method: 'GET', path: `/admin/users?limit=50&filter=${encodeURIComponent(users[3]!.email)}`, headers: admin }]],
  ];

  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const out: string[] = [`| scenario | empty req/s (rounds) | ${count} users req/s (rounds) | ratio of medians | within 20% |`, `|---|---|---|---:|---|`];
  for (const [name, requests] of scenarios) {
    const runs: Record<'empty' | 'full', number[]> = { empty: [], full: [] };
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const)) {
        const x = servers[side];
        runs[side].push((await measure(`${name} (${side}, round ${r + 1})`, x.base, await requests(x, `${side[0]}${r}`))).rps);
      }
    }
    const ratio = median(runs.full) / median(runs.empty);
    out.push(`| ${name} | ${median(runs.empty).toFixed(0)} (${runs.empty.map((v) => v.toFixed(0)).join(', ')}) | ${median(runs.full).toFixed(0)} (${runs.full.map((v) => v.toFixed(0)).join(', ')}) | ${ratio.toFixed(2)} | ${ratio >= 0.8 ? 'yes' : 'NO'} |`);
  }
  process.stdout.write(`\n${out.join('\n')}\n\n(${cpus().length} cores, ${connections} connections, ${duration} s per scenario and round, ${rounds} rounds, GOTRUE_WORKERS=${workers}; ${seedNote})\n`);
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  for (const ns of [schema, ...extraSchemas]) await client.query(`drop schema if exists "${ns}" cascade`);
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
