/**
 * npx tsx hack/profile.ts <scenario> — where a request's time goes: starts `./gotrue serve` on Postgres under
 * `node --cpu-prof`, drives one scenario with autocannon, stops the server and prints the profile's self time by
 * owner (our files by path, dependencies by package, Node internals, GC, idle) and the top functions.
 *
 * Scenarios: health (GET /health), user (GET /user), password (POST /token password), signup, refresh (POST /token
 * refresh_token, each reply's token queued for a later request); bare-user and
 * bare-health profile the bench's floors instead (hack/bare-pg-server.ts GET /jwt-1 with the same token,
 * hack/bare-express.ts GET /health), so the splits can be read side by side.
 * Env: BENCH_DATABASE_URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres), PROFILE_DURATION
 * seconds (10), BENCH_CONNECTIONS (10). Counted CPU, so the split holds on a busy machine; the rate does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { rotatingRefresh } from './refresh-requests';

const root = resolve(import.meta.dirname, '..');
const scenario = process.argv[2] ?? 'user';
const dbUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.PROFILE_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const schema = `profile_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'gotrue-profile-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const PASSWORD = 'profile-password-1';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Who owns a frame: our source file, a dependency package, Node itself, or V8's pseudo-frames. */
function ownerOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const ours = url.indexOf('/src/');
  return ours >= 0 ? url.slice(ours + 1) : url;
}

async function main(): Promise<void> {
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    GOTRUE_DB_NAMESPACE: schema,
    GOTRUE_JWT_SECRET: randomBytes(32).toString('base64'),
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000000',
    GOTRUE_RATE_LIMIT_OTP: '1000000000',
    LOG_LEVEL: 'info',
    PORT: String(port),
  };
  const migrate = spawn('./gotrue', ['migrate'], { cwd: root, env, stdio: 'inherit' });
  await once(migrate, 'exit');
  // What ./gotrue runs, with the profiler on (--cpu-prof is refused in NODE_OPTIONS).
  const spawnedAt = performance.now();
  const bare = scenario.startsWith('bare-');
  const prof = bare ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const server = spawn(process.execPath, [...prof, '--import', 'tsx', 'src/main.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  let floor: ChildProcess | undefined;
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/health`).catch(() => undefined))?.ok) break;
      if (i > 300) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const email = `profile-${schema}@example.com`;
    const signup = (await (await fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) })).json()) as { access_token: string };
    const json = { 'content-type': 'application/json' };
    let n = 0;
    const requests: Record<string, autocannon.Request[]> = {
      health: [{ method: 'GET', path: '/health' }],
      user: [{ method: 'GET', path: '/user', headers: { authorization: `Bearer ${signup.access_token}` } }],
      password: [{ method: 'POST', path: '/token?grant_type=password', headers: json, body: JSON.stringify({ email, password: PASSWORD }) }],
      signup: [{ method: 'POST', path: '/signup', headers: json, setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `p-${n++}-${email}`, password: PASSWORD }) }) }],
    };
    // Forty sessions' refresh tokens in one queue: a request takes one and its reply puts the rotated one back.
    const queue: string[] = [];
    if (scenario === 'refresh') {
      for (let i = 0; i < 40; i++) {
        const r = await fetch(`${base}/token?grant_type=password`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) });
        queue.push(((await r.json()) as { refresh_token: string }).refresh_token);
      }
    }
    requests.refresh = rotatingRefresh(queue);
    requests['bare-user'] = [{ method: 'GET', path: '/jwt-1', headers: { authorization: `Bearer ${signup.access_token}` } }];
    requests['bare-health'] = requests.health!;
    if (!requests[scenario]) throw new Error(`unknown scenario ${scenario}: ${Object.keys(requests).join(', ')}`);
    let url = base;
    let spawnedProfiledAt = spawnedAt;
    let profiled: ChildProcess = server;
    if (bare) {
      // The floor on the same schema and secret, profiled; the auth server only made the user and its token.
      server.kill('SIGTERM');
      await once(server, 'exit');
      const barePort = port + 1;
      spawnedProfiledAt = performance.now();
      const script = scenario === 'bare-health' ? 'hack/bare-express.ts' : 'hack/bare-pg-server.ts';
      floor = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', script], {
        cwd: root,
        env: { ...env, BENCH_DB_URL: dbUrl, BENCH_SCHEMA: schema, BENCH_PORT: String(barePort), BENCH_POOL: '10', BENCH_SECRET: env.GOTRUE_JWT_SECRET },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await once(floor.stdout!, 'data');
      profiled = floor;
      url = `http://127.0.0.1:${barePort}`;
    }
    await autocannon({ url, connections, duration: 2, requests: requests[scenario] }); // warm-up, not counted
    // Samples before this point (module loading, JIT warm-up) are left out of the split.
    const loadFromUs = (performance.now() - spawnedProfiledAt) * 1000;
    const r = await autocannon({ url, connections, duration, requests: requests[scenario] });
    process.stdout.write(`${scenario}: ${r.requests.total} requests, ${(r['2xx'] / r.duration).toFixed(0)} req/s, non-2xx ${r.non2xx}\n`);
    profiled.kill('SIGTERM');
    await once(profiled, 'exit');

    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile written');
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(prof.nodes.map((x) => [x.id, x]));
    const selfUs = new Map<number, number>();
    let at = 0;
    prof.samples.forEach((id, i) => {
      at += prof.timeDeltas[i] ?? 0;
      if (at >= loadFromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
    });
    const owners = new Map<string, number>();
    const fns = new Map<string, number>();
    let busy = 0;
    for (const [id, us] of selfUs) {
      const { callFrame: f } = byId.get(id)!;
      const owner = ownerOf(f.url, f.functionName);
      owners.set(owner, (owners.get(owner) ?? 0) + us);
      if (owner !== '(idle)') busy += us;
      const key = `${f.functionName || '(anonymous)'} ${owner}:${f.lineNumber + 1}`;
      fns.set(key, (fns.get(key) ?? 0) + us);
    }
    const total = r.requests.total || 1;
    const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
    process.stdout.write(`CPU busy ${(busy / 1e6).toFixed(2)} s over ${total} requests: ${(busy / total).toFixed(0)} µs a request (measured run and shutdown; start-up and warm-up left out)\n\nby owner (µs a request):\n`);
    for (const [o, us] of top(owners, 25)) process.stdout.write(`  ${(us / total).toFixed(1).padStart(8)}  ${o}\n`);
    process.stdout.write('\ntop functions (µs a request):\n');
    for (const [f, us] of top(fns, Number(process.env.PROFILE_TOP ?? 30))) process.stdout.write(`  ${(us / total).toFixed(1).padStart(8)}  ${f}\n`);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    if (floor && floor.exitCode === null) floor.kill('SIGKILL');
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}

main().catch((err) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
