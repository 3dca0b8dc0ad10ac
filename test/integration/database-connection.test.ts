import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFailure } from '../../src/db/connection-errors';
import { openDatabase, type DatabaseHandle } from '../../src/db/database';
import { toApiError } from '../../src/http/error-handler';
import { openTestDatabase, onPostgres, testDatabaseUrl, type TestDatabase } from '../helpers/test-db';
import { useTestApp } from '../helpers/test-app';

const { app } = useTestApp();

describe('GET /health/ready', () => {
  it('answers 200 with the database ok, at / and under /auth/v1; /health stays GoTrue static answer', async () => {
    for (const path of ['/health/ready', '/auth/v1/health/ready']) {
      const r = await request(app).get(path);
      expect([r.status, r.body]).toEqual([200, { status: 'ok', database: 'ok' }]);
      expect(r.headers['cache-control']).toBe('no-store');
    }
    expect((await request(app).get('/health')).body).toMatchObject({ name: 'GoTrue' });
  });
});

describe('the readiness ping is bounded', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('rejects within its bound, as an outage, while no connection can be had', async () => {
    // Every connection busy: PGlite's one, or a one-connection pool on Postgres.
    const narrow: DatabaseHandle =
      database.kind === 'pglite' ? database : await openDatabase({ url: testDatabaseUrl, namespace: database.namespace, maxPoolSize: 1, dataDir: '' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = narrow.root.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await held;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      const err = await narrow.ping(300).then(() => undefined, (e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(databaseFailure(err)).toBe('unavailable');
      expect(toApiError(err).status).toBe(503);
    } finally {
      release();
      await holding;
      if (narrow !== database) await narrow.destroy();
    }
    await database.ping(2_000);
  });
});

// Killing backends and server-side statement timeouts need a Postgres server; PGlite runs in this process and has
// no connection to lose.
describe.runIf(onPostgres)('the Postgres pool', () => {
  const namespace = `t_${randomBytes(6).toString('hex')}`;
  let killer: pg.Client;
  const named = (applicationName: string) => {
    const u = new URL(testDatabaseUrl!);
    u.searchParams.set('application_name', applicationName);
    return u.toString();
  };
  const terminate = async (applicationName: string) =>
    Number((await killer.query('select count(pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1', [applicationName])).rows[0].n);

  beforeAll(async () => {
    killer = new pg.Client({ connectionString: testDatabaseUrl });
    await killer.connect();
  });
  afterAll(() => killer.end());

  it('names its connections gotrue, unless the URL names them', async () => {
    const plain = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    const own = await openDatabase({ url: named('my_app'), namespace, maxPoolSize: 1, dataDir: '' });
    try {
      const name = async (h: DatabaseHandle) => (await sql<{ n: string }>`select current_setting('application_name') as n`.execute(h.root)).rows[0]!.n;
      expect(await name(plain)).toBe('gotrue');
      expect(await name(own)).toBe('my_app');
    } finally {
      await plain.destroy();
      await own.destroy();
    }
  });

  it('cancels a statement past GOTRUE_DB_STATEMENT_TIMEOUT, answered 504 request_timeout', async () => {
    const h = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '', statementTimeoutMs: 200 });
    try {
      const started = Date.now();
      const err = await sql`select pg_sleep(3)`.execute(h.root).then(() => undefined, (e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_500);
      expect((err as { code?: string }).code).toBe('57014');
      expect([toApiError(err).status, toApiError(err).code]).toEqual([504, 'request_timeout']);
      await sql`select 1`.execute(h.root); // the connection is still good
    } finally {
      await h.destroy();
    }
  });

  it('survives the server terminating its idle and busy connections: warns once each, then reconnects on demand', async () => {
    const appName = `pool_${randomBytes(4).toString('hex')}`;
    const warnings: { obj: object; msg: string }[] = [];
    const h = await openDatabase({ url: named(appName), namespace, maxPoolSize: 3, dataDir: '', logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
    try {
      // Idle: three connections opened and returned to the pool, then killed.
      await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`.execute(h.root)));
      expect(await terminate(appName)).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toHaveLength(3);
      expect(warnings[0]).toEqual({ obj: { code: '57P01', reason: expect.stringMatching(/terminating connection/) }, msg: expect.stringMatching(/database connection lost/) });
      expect((await sql<{ one: number }>`select 1 as one`.execute(h.root)).rows).toEqual([{ one: 1 }]);

      // Busy: a transaction's connection killed between two statements. The transaction fails as an outage.
      const failed = await h.root
        .transaction()
        .execute(async (trx) => {
          await sql`select 1`.execute(trx);
          await terminate(appName);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await sql`select 1`.execute(trx);
        })
        .then(() => undefined, (e: unknown) => e);
      expect(databaseFailure(failed)).toBe('unavailable');
      expect((await sql<{ one: number }>`select 1 as one`.execute(h.root)).rows).toEqual([{ one: 1 }]);
      expect(warnings.length).toBeGreaterThanOrEqual(4);
      expect(JSON.stringify(warnings)).not.toContain(testDatabaseUrl!);
    } finally {
      await h.destroy();
    }
  });
});
