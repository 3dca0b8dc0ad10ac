/**
 * npx tsx hack/plan-buffers.ts <schema> [<schema> …] — what each per-request path costs Postgres, counted: for every
 * named schema (migrated; seeded or not), runs the hot requests against an in-process app, records the statements
 * each sends at the pg client, then replays them in one transaction that is rolled back, as EXPLAIN (ANALYZE,
 * BUFFERS), and prints the shared buffers each request touches (hit + read) and its statement count. Buffer counts
 * do not depend on the machine's load, so "flat at a million users" can be checked on a busy machine: compare a
 * seeded schema with an empty one. Env: BENCH_DATABASE_URL (else DATABASE_URL, else postgres://…/postgres).
 */
import pg from 'pg';
import pino from 'pino';
import request from 'supertest';
import { SignJWT } from 'jose';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { buildDeps } from '../src/deps';

const dbUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const secret = 'plan-buffers-secret-plan-buffers-secret';
const PASSWORD = 'bench-password-1';

interface Statement {
  text: string;
  values: unknown[];
}
const recorded: Statement[] = [];
let recording = false;
const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
const original = proto.query;
proto.query = function (this: unknown, ...args: unknown[]) {
  if (recording) {
    const [a, b] = args;
    const c = typeof a === 'string' ? { text: a, values: b } : (a as { text: string; values?: unknown });
    recorded.push({ text: c.text, values: Array.isArray(c.values) ? c.values : [] });
    // The recorded request's transaction is rolled back, so the replay can run its writes again (same keys).
    if (/^\s*commit\s*$/i.test(c.text)) return original.apply(this, ['rollback']);
  }
  return original.apply(this, args);
};
const CONTROL = /^\s*(begin|commit|rollback|savepoint|release|set|reset|select 1)\b/i;
type PlanNode = { 'Shared Hit Blocks'?: number; 'Shared Read Blocks'?: number };

async function measureSchema(schema: string): Promise<Record<string, string>> {
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    GOTRUE_DB_NAMESPACE: schema,
    GOTRUE_JWT_SECRET: secret,
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_SMTP_MAX_FREQUENCY: '0s',
    GOTRUE_RATE_LIMIT_STORE: 'memory',
    GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: 'true',
    LOG_LEVEL: 'silent',
  });
  const database = await openDatabase({ url: dbUrl, namespace: schema, maxPoolSize: 4, dataDir: 'unused' });
  const app = createApp(buildDeps(config, database, pino({ level: 'silent' })));
  const admin = `Bearer ${await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(Buffer.from(secret))}`;
  const replay = new pg.Client({ connectionString: dbUrl });
  await replay.connect();
  const tag = Date.now().toString(36);
  const email = `plan-${tag}@example.com`;
  const out: Record<string, string> = {};
  const measure = async (name: string, send: () => PromiseLike<{ status: number; body: unknown }>) => {
    // Once to warm the caches and plans, then recorded.
    await send();
    recorded.length = 0;
    recording = true;
    const res = await send();
    recording = false;
    if (res.status >= 400) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
    const statements = recorded.filter((s) => !CONTROL.test(s.text));
    let blocks = 0;
    let failed = 0;
    await replay.query('begin');
    for (const s of statements) {
      // A statement outside the request's transaction (an audit row) committed: its replay may collide; skip it.
      await replay.query('savepoint s');
      try {
        const r = await replay.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, buffers, format json) ${s.text}`, s.values);
        const plan = r.rows[0]!['QUERY PLAN'][0].Plan;
        blocks += (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
        await replay.query('release savepoint s');
      } catch {
        failed++;
        await replay.query('rollback to savepoint s');
      }
    }
    await replay.query('rollback');
    out[name] = `${blocks} buffers, ${recorded.length} round trips${failed ? ` (${failed} not replayed)` : ''}`;
  };
  const signup = await request(app).post('/signup').send({ email, password: PASSWORD });
  const access = (signup.body as { access_token: string }).access_token;
  let n = 0;
  await measure('POST /token password', () => request(app).post('/token?grant_type=password').send({ email, password: PASSWORD }));
  await measure('GET /user', () => request(app).get('/user').set('Authorization', `Bearer ${access}`));
  await measure('POST /signup', () => request(app).post('/signup').send({ email: `plan-${tag}-${n++}@example.com`, password: PASSWORD }));
  await measure('POST /otp (existing user)', () => request(app).post('/otp').send({ email }));
  await measure('GET /admin/users page 1 (with count)', () => request(app).get('/admin/users?page=1&per_page=50').set('Authorization', admin));
  await measure('GET /admin/users page 200', () => request(app).get('/admin/users?page=200&per_page=50').set('Authorization', admin));
  await measure('GET /admin/users cursor, first page', () => request(app).get('/admin/users?limit=50').set('Authorization', admin));
  const first = await request(app).get('/admin/users?limit=1000&sort=created_at%20asc').set('Authorization', admin);
  const cursor = (first.body as { pagination: { next_cursor?: string } }).pagination.next_cursor;
  await measure('GET /admin/users cursor, resumed', () => request(app).get(`/admin/users?limit=50&sort=created_at%20asc${cursor ? `&cursor=${cursor}` : ''}`).set('Authorization', admin));
  await measure('GET /admin/users?filter=<an email>', () => request(app).get(`/admin/users?limit=50&filter=${encodeURIComponent(email)}`).set('Authorization', admin));
  await replay.end();
  await database.destroy();
  return out;
}

async function main(): Promise<void> {
  const schemas = process.argv.slice(2);
  if (schemas.length === 0) throw new Error('usage: npx tsx hack/plan-buffers.ts <schema> [<schema> …]');
  const results = [];
  for (const s of schemas) results.push(await measureSchema(s));
  const lines = [`| request | ${schemas.join(' | ')} |`, `|---|${schemas.map(() => '---:').join('|')}|`];
  for (const name of Object.keys(results[0]!)) lines.push(`| ${name} | ${results.map((r) => r[name]).join(' | ')} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`plan-buffers failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
