import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createPasswordHasher } from '../../src/crypto/password-hasher';
import { buildDeps, type Deps } from '../../src/deps';
import { createRateLimitStore } from '../../src/domain/rate-limit-store';
import { startMailTestServer } from '../helpers/email-flows';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { dbKind, openTestDatabase } from '../helpers/test-db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { API_VERSION, baseEnv, TEST_ARGON2, testDeps, uniqueEmail } from '../helpers/test-server';

let db: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** Each test counts under its own key prefix, so counts never leak between tests, runs or files. */
const prefix = () => `t${randomBytes(6).toString('hex')}`;

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, warnings: () => lines.filter((l) => l.level === 40) };
}

const depsWith = (env: Record<string, string>, logger = pino({ level: 'silent' })): Deps =>
  buildDeps(loadConfig({ ...baseEnv(db), GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix(), ...env }), db, logger, { hasher: createPasswordHasher(TEST_ARGON2) });

/** A wrong-password sign-in: 400 until the /token limit, then 429. */
const login = (app: ReturnType<typeof createApp>, headers: Record<string, string> = {}) =>
  request(app).post('/token?grant_type=password').set(API_VERSION).set(headers).send({ email: 'nobody@example.com', password: 'wrong' });

describe(`the rate-limit key cannot be chosen by the client (${dbKind})`, () => {
  it('with X-Forwarded-For, the entry the proxy appended counts: a new spoofed left-most entry per request does not reset the limit', async () => {
    const app = createApp(depsWith({ GOTRUE_RATE_LIMIT_HEADER: 'X-Forwarded-For', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '3' }));
    const from = (spoof: string, client: string) => login(app, { 'X-Forwarded-For': `${spoof}, ${client}` });
    for (let i = 0; i < 3; i++) expect((await from(`10.9.9.${i}`, '203.0.113.7')).status).toBe(400);
    const over = await from('10.9.9.99', '203.0.113.7');
    expect([over.status, over.body.code, over.body.message]).toEqual([429, 'over_request_rate_limit', 'Request rate limit reached']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(app, { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(429);
    // Another client behind the same proxy has a count of its own.
    expect((await from('10.9.9.0', '203.0.113.8')).status).toBe(400);
  });

  it('with GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS=2 (CDN then load balancer), the entry the outer proxy appended counts', async () => {
    const app = createApp(depsWith({ GOTRUE_RATE_LIMIT_HEADER: 'X-Forwarded-For', GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS: '2', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '2' }));
    // client-written, CDN-appended client address, load-balancer-appended CDN edge (which varies)
    const from = (spoof: string, edge: string) => login(app, { 'X-Forwarded-For': `${spoof}, 198.51.100.1, ${edge}` });
    expect((await from('1.1.1.1', '172.16.0.1')).status).toBe(400);
    expect((await from('2.2.2.2', '172.16.0.2')).status).toBe(400);
    expect((await from('3.3.3.3', '172.16.0.3')).status).toBe(429);
    expect((await login(app, { 'X-Forwarded-For': '198.51.100.2, 172.16.0.1' })).status).toBe(400);
  });

  it('with GOTRUE_SECURITY_SB_FORWARDED_FOR_ENABLED, a valid Sb-Forwarded-For names the client (also in audit rows); an invalid one is ignored', async () => {
    const app = createApp(depsWith({ GOTRUE_SECURITY_SB_FORWARDED_FOR_ENABLED: 'true', GOTRUE_RATE_LIMIT_HEADER: 'X-Real-IP', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '2' }));
    const edge = (sbff: string, realIp: string) => login(app, { 'Sb-Forwarded-For': sbff, 'X-Real-IP': realIp });
    expect((await edge('192.0.2.10', '10.0.0.1')).status).toBe(400);
    expect((await edge('192.0.2.10, 10.0.0.5', '10.0.0.2')).status).toBe(400);
    expect((await edge('192.0.2.10', '10.0.0.3')).status).toBe(429);
    // Not an IP: the configured header names the client instead.
    expect((await edge('not-an-ip', '10.0.0.4')).status).toBe(400);
    expect((await edge('not-an-ip', '10.0.0.4')).status).toBe(400);
    expect((await edge('not-an-ip', '10.0.0.4')).status).toBe(429);

    const email = uniqueEmail('sbff');
    const signup = await request(app).post('/signup').set('Sb-Forwarded-For', '192.0.2.77').set('X-Forwarded-For', '10.1.1.1').send({ email, password: 'pass-word-1' });
    expect(signup.status).toBe(200);
    const rows = await db.db.selectFrom('audit_log_entries').select('ip_address').where(sql<string>`payload->>'actor_username'`, '=', email).execute();
    expect(rows.map((r) => r.ip_address)).toContain('192.0.2.77');
  });

  it('without the flag, Sb-Forwarded-For is ignored: a new value per request does not reset the limit', async () => {
    const app = createApp(depsWith({ GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '2' }));
    expect((await login(app, { 'Sb-Forwarded-For': '192.0.2.1' })).status).toBe(400);
    expect((await login(app, { 'Sb-Forwarded-For': '192.0.2.2' })).status).toBe(400);
    expect((await login(app, { 'Sb-Forwarded-For': '192.0.2.3' })).status).toBe(429);
  });
});

describe(`buckets (${dbKind})`, () => {
  it('each GoTrue limiter counts apart; an anonymous sign-in counts in its own hourly bucket, not the sign-up one', async () => {
    const app = createApp(
      depsWith({ GOTRUE_RATE_LIMIT_OTP: '2', GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '1', GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true' }),
    );
    const post = (path: string, body: object) => request(app).post(path).set(API_VERSION).send(body);
    const email = uniqueEmail('bucket');
    expect((await post('/recover', { email })).status).toBe(200);
    expect((await post('/recover', { email })).status).toBe(200);
    expect((await post('/recover', { email })).status).toBe(429);
    expect((await post('/magiclink', { email })).status).not.toBe(429);

    expect((await post('/signup', {})).status).toBe(200);
    const second = await post('/signup', {});
    expect([second.status, second.body.code]).toEqual([429, 'over_request_rate_limit']);
    expect((await post('/signup', { email: uniqueEmail('bucket'), password: 'pass-word-1' })).status).toBe(200);
  });
});

describe(`a shared store: two servers count together (${dbKind})`, () => {
  const sharedCount = async (env: Record<string, string>) => {
    const keyPrefix = prefix();
    const shared = { GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '4', GOTRUE_RATE_LIMIT_KEY_PREFIX: keyPrefix, ...env };
    // Two deps, as two processes build them: each has its own store client and fallback.
    const [a, b] = [depsWith(shared), depsWith(shared)];
    const [appA, appB] = [createApp(a), createApp(b)];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(i % 2 === 0 ? appA : appB)).status);
    await a.rateLimitStore.close();
    await b.rateLimitStore.close();
    return { statuses, kinds: [a.rateLimitStore.kind, b.rateLimitStore.kind], keyPrefix };
  };

  it('postgres: the rate_limits table of the namespace holds the one count', async () => {
    const { statuses, kinds, keyPrefix } = await sharedCount({ GOTRUE_RATE_LIMIT_STORE: 'postgres' });
    expect(kinds).toEqual(['postgres', 'postgres']);
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
    const rows = await db.db.selectFrom('rate_limits').select('points').where('key', 'like', `${keyPrefix}:token:%`).execute();
    expect(rows).toEqual([{ points: 6 }]);
  });

  it('redis: one count under the key prefix', async () => {
    const { statuses, kinds } = await sharedCount({ GOTRUE_RATE_LIMIT_REDIS_URL: REDIS_URL });
    expect(kinds).toEqual(['redis', 'redis']);
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
  });

  it('memory (the embedded default) counts per process', async () => {
    const { statuses, kinds } = await sharedCount({ GOTRUE_RATE_LIMIT_STORE: 'memory' });
    expect(kinds).toEqual(['memory', 'memory']);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400]);
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe(`an unreachable store (${dbKind})`, () => {
  it('Redis down: every request is answered, limits hold per process, and one warning is logged, not one per request', async () => {
    const { logger, warnings } = capturingLogger();
    const deps = depsWith({ GOTRUE_RATE_LIMIT_REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '3' }, logger);
    const app = createApp(deps);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(app)).status);
    await deps.rateLimitStore.close();
    expect(statuses).toEqual([400, 400, 400, 429, 429, 429, 429, 429]);
    expect(warnings().map((w) => w.msg)).toEqual(['rate limits: the store is unreachable; counting per process until it answers again']);
  });

  it('Redis dropped while in use (a restart, a failover): no crash, requests answered from the fallback, shared again once it is back', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) }).listen();
    const { logger, lines, warnings } = capturingLogger();
    const config = loadConfig({ ...baseEnv(db), GOTRUE_RATE_LIMIT_REDIS_URL: `redis://127.0.0.1:${proxy.port}`, GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix() });
    const store = createRateLimitStore(config, db, logger);
    try {
      const limiter = store.limiter('probe', 100, 60);
      expect((await limiter.consume('client')).allowed).toBe(true);
      proxy.set('refuse');
      for (let i = 0; i < 3; i++) expect((await limiter.consume('client')).allowed).toBe(true);
      expect(warnings().map((w) => w.msg)).toEqual(['rate limits: the store is unreachable; counting per process until it answers again']);
      proxy.set('pass');
      // ioredis reconnects by itself (backoff up to 2 s between attempts).
      for (let i = 0; i < 150 && !lines.some((l) => /store answers again/.test(l.msg)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await limiter.consume('client');
      }
      expect(lines.filter((l) => l.level >= 30).map((l) => l.msg)).toContain('rate limits: the store answers again; counts are shared again');
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('Postgres counters failing (no rate_limits table): answered from the fallback, one warning', async () => {
    const { logger, warnings } = capturingLogger();
    const config = loadConfig({ ...baseEnv(db), GOTRUE_RATE_LIMIT_STORE: 'postgres' });
    const store = createRateLimitStore(config, { ...db, namespace: 'no_such_namespace' }, logger);
    const limiter = store.limiter('probe', 2, 60);
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push((await limiter.consume('client')).allowed);
    expect(verdicts).toEqual([true, true, false, false]);
    expect(warnings()).toHaveLength(1);
  });

  it('a store that answers again is used again, and says so once', async () => {
    const { logger, lines } = capturingLogger();
    const config = loadConfig({ ...baseEnv(db), GOTRUE_RATE_LIMIT_STORE: 'postgres', GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix() });
    const namespace = `rl_${randomBytes(4).toString('hex')}`;
    const store = createRateLimitStore(config, { ...db, namespace }, logger);
    const limiter = store.limiter('probe', 5, 60);
    expect((await limiter.consume('client')).allowed).toBe(true);
    await sql`create schema ${sql.id(namespace)}`.execute(db.root);
    try {
      await sql`create table ${sql.id(namespace)}.rate_limits (like ${sql.id(db.namespace)}.rate_limits including all)`.execute(db.root);
      expect((await limiter.consume('client')).allowed).toBe(true);
      expect((await limiter.consume('client')).allowed).toBe(true);
      const row = await sql<{ points: number }>`select points from ${sql.id(namespace)}.rate_limits`.execute(db.root);
      expect(row.rows.map((r) => r.points)).toEqual([2]);
    } finally {
      await sql`drop schema ${sql.id(namespace)} cascade`.execute(db.root);
    }
    expect(lines.filter((l) => l.level >= 30).map((l) => l.msg)).toEqual([
      'rate limits: the store is unreachable; counting per process until it answers again',
      'rate limits: the store answers again; counts are shared again',
    ]);
  });
});

describe(`server-wide send limits (${dbKind})`, () => {
  it('GOTRUE_RATE_LIMIT_EMAIL_SENT: the mail over it is 429 over_email_send_rate_limit, nothing is sent and the sign-up leaves no user', async () => {
    const server = await startMailTestServer(db, { GOTRUE_RATE_LIMIT_EMAIL_SENT: '2', GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix() });
    try {
      const signup = (email: string) => request(server.app).post('/signup').set(API_VERSION).send({ email, password: 'pass-word-1' });
      const [a, b, c] = [uniqueEmail('sent'), uniqueEmail('sent'), uniqueEmail('sent')];
      expect((await signup(a)).status).toBe(200);
      expect((await signup(b)).status).toBe(200);
      const over = await signup(c);
      expect([over.status, over.body.code, over.body.message]).toEqual([429, 'over_email_send_rate_limit', 'email rate limit exceeded']);
      await server.mail.next(a);
      await server.mail.next(b);
      expect(server.mail.pending(c)).toEqual([]);
      expect(await db.db.selectFrom('users').select('id').where('email', '=', c).execute()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a rate of 0 refuses every mail, even with autoconfirm on (as GoTrue)', async () => {
    const app = createApp(depsWith({ GOTRUE_RATE_LIMIT_EMAIL_SENT: '0', GOTRUE_MAILER_AUTOCONFIRM: 'true' }));
    const r = await request(app).post('/otp').set(API_VERSION).send({ email: uniqueEmail('zero') });
    expect([r.status, r.body.code]).toEqual([429, 'over_email_send_rate_limit']);
  });

  it('GOTRUE_RATE_LIMIT_SMS_SENT: the SMS over it is 429 over_sms_send_rate_limit; test-OTP phones send nothing and count nothing', async () => {
    const sms = recordingSms();
    const testPhone = uniquePhone();
    const deps = testDeps(
      db,
      { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_RATE_LIMIT_SMS_SENT: '1', GOTRUE_SMS_TEST_OTP: `${testPhone}:123456`, GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix() },
      { sms },
    );
    const app = createApp(deps);
    const otp = (phone: string) => request(app).post('/otp').set(API_VERSION).send({ phone });
    expect((await otp(uniquePhone())).status).toBe(200);
    expect((await otp(testPhone)).status).toBe(200);
    const over = await otp(uniquePhone());
    expect([over.status, over.body.code, over.body.message]).toEqual([429, 'over_sms_send_rate_limit', 'SMS rate limit exceeded']);
    expect(sms.sent).toHaveLength(1);
  });

  it('the send count is shared through the store: two servers on one Postgres store share GOTRUE_RATE_LIMIT_EMAIL_SENT', async () => {
    const shared = { GOTRUE_RATE_LIMIT_STORE: 'postgres', GOTRUE_RATE_LIMIT_EMAIL_SENT: '1', GOTRUE_RATE_LIMIT_KEY_PREFIX: prefix() };
    const one = await startMailTestServer(db, shared);
    const two = await startMailTestServer(db, shared);
    try {
      const magic = (server: typeof one) => request(server.app).post('/otp').set(API_VERSION).send({ email: uniqueEmail('shared-sent') });
      expect((await magic(one)).status).toBe(200);
      expect((await magic(two)).body.code).toBe('over_email_send_rate_limit');
    } finally {
      await one.close();
      await two.close();
    }
  });
});
