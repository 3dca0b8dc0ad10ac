import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { databaseTimedOut } from './connection-errors';
import { lockDataFolder, type DataFolderLock } from './data-folder-lock';
import { PGliteDialect } from './pglite-dialect';
import { statementName } from './statement-names';
import type { Database } from './schema';

export type Db = Kysely<Database>;
/** A repository function takes either the database or a transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DatabaseHandle {
  /** Queries qualified with the auth namespace. */
  db: Db;
  /** The same connection(s) with no schema applied (migrations, health checks). */
  root: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  namespace: string;
  /** Where the embedded database lives; undefined on Postgres. */
  dataDir: string | undefined;
  /**
   * Runs `select 1` and resolves once the database answers; rejects within `timeoutMs` otherwise (with a
   * connection-level error, see connection-errors.ts). The readiness check.
   */
  ping(timeoutMs: number): Promise<void>;
  destroy(): Promise<void>;
  /** Postgres: the pool's occupancy now (for the metrics gauge); undefined on the embedded database. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
  /** Embedded: the data directory as a gzipped tarball (PGlite's dumpDataDir; the build's seed). */
  dumpDataDir?(): Promise<Blob>;
  /** Embedded, on disk: how this start found its database ('seed' and 'initdb' made a new one). */
  created?: 'existing' | 'seed' | 'initdb';
}

// Timestamps without time zone are written and read as UTC, whatever TZ the process runs in.
pg.defaults.parseInputDatesAsUTC = true;
const parseUtcTimestamp = (s: string) => new Date(`${s.replace(' ', 'T')}Z`);
pg.types.setTypeParser(1114, parseUtcTimestamp);

export interface DatabaseOptions {
  url: string | undefined;
  namespace: string;
  maxPoolSize: number;
  /** Folder for PGlite; 'memory://' for an in-memory database (tests). */
  dataDir: string;
  /** Postgres: longest wait for a connection, a new one or a free pool slot (GOTRUE_DB_CONNECT_TIMEOUT). */
  connectTimeoutMs?: number;
  /** Postgres: the server's statement_timeout on every connection; 0 = none (GOTRUE_DB_STATEMENT_TIMEOUT). */
  statementTimeoutMs?: number;
  /** Where a dropped connection is reported; nothing is logged without one. */
  logger?: WarnLogger;
  /**
   * Embedded, on disk: the pre-initialised database a new data folder starts from (pglite-seed.ts); defaults to
   * the build's dist/pglite-seed.tar.gz; false = always initdb.
   */
  seedPath?: string | false;
}

/** The slice of a pino logger the pool reports to. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Defaults for callers that do not pass the configured bounds (tests, CLI helpers). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Postgres connections say who they are in pg_stat_activity unless the URL names them (`?application_name=`). */
export const DEFAULT_APPLICATION_NAME = 'gotrue';

/**
 * Opens Postgres through a pg pool when a URL is given, else PGlite in dataDir. A PGlite folder admits one
 * process: its single-writer lock (data-folder-lock.ts) is taken before PGlite opens it, so a second opener gets
 * DataFolderInUseError and writes nothing, and it is released by destroy() (or at exit). `memory://` takes none.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) {
    const statementTimeout = opts.statementTimeoutMs ?? 0;
    const pool = new pg.Pool({
      // Values in the URL (application_name, statement_timeout, connect_timeout) win over these defaults.
      connectionString: opts.url,
      max: opts.maxPoolSize,
      application_name: DEFAULT_APPLICATION_NAME,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(statementTimeout > 0 ? { statement_timeout: Math.ceil(statementTimeout) } : {}),
      // A peer that vanished without a FIN/RST (failover, a NAT's idle timeout) is found by TCP keepalive.
      keepAlive: true,
    });
    const onError = connectionErrorReporter(opts.logger);
    pool.on('error', onError);
    const effectiveStatementTimeout = statementTimeoutInUrl(opts.url) ?? statementTimeout;
    pool.on('connect', (client) => {
      client.on('error', onError);
      wrapQueries(client, effectiveStatementTimeout > 0 ? effectiveStatementTimeout + UNANSWERED_GRACE_MS : 0);
    });
    const root = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max });
    return { ...handle(root, 'postgres', opts.namespace, undefined), poolStats };
  }
  const inMemory = opts.dataDir.startsWith('memory://');
  const dataDir = inMemory ? opts.dataDir : resolve(opts.dataDir);
  let lock: DataFolderLock | undefined;
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    lock = lockDataFolder(dataDir);
  }
  try {
    // Loaded here, not at the top: a server on Postgres never pays for PGlite's import (startup time).
    const [{ PGlite }, { DurableNodeFS, durablePGliteOptions, pgliteStartParams }, seed] = await Promise.all([
      import('@electric-sql/pglite'),
      import('./pglite-durable-fs'),
      import('./pglite-seed'),
    ]);
    const parsers = { 20: (s: string) => s, 1114: parseUtcTimestamp };
    let lite: InstanceType<typeof PGlite>;
    let created: DatabaseHandle['created'];
    if (inMemory) {
      lite = new PGlite(opts.dataDir, { parsers, ...pgliteStartParams() });
      await lite.waitReady;
    } else {
      const pgdata = `${dataDir}/pgdata`;
      // A new folder is made from the build's seed when there is a usable one, else by initdb; until it is made and
      // flushed as a whole, pgdata.creating marks it unfinished (pglite-seed.ts).
      const fresh = seed.beginCreation(dataDir, opts.logger);
      // On disk, a commit is fsynced before it is acknowledged (pglite-durable-fs.ts); PGlite's default is not.
      const open = async (loadDataDir?: Blob) => {
        const fs = new DurableNodeFS(pgdata);
        if (fresh) fs.deferFsync();
        const l = new PGlite({ ...durablePGliteOptions(pgdata, fs), parsers, ...(loadDataDir ? { loadDataDir } : {}) });
        try {
          await l.waitReady;
        } catch (err) {
          // A seed that fails to load leaves no instance behind (its WebAssembly memory, its mount) for the initdb retry.
          await l.close().catch(() => undefined);
          throw err;
        }
        return { l, fs };
      };
      const tarball = fresh && opts.seedPath !== false ? seed.readSeed(opts.seedPath ?? seed.DEFAULT_SEED_PATH, opts.namespace, opts.logger) : undefined;
      let opened: Awaited<ReturnType<typeof open>>;
      if (tarball) {
        try {
          opened = await open(tarball);
          created = 'seed';
        } catch (err) {
          opts.logger?.warn({ reason: (err as Error).message }, 'embedded database: the pre-initialised seed did not load; running initdb');
          rmSync(pgdata, { recursive: true, force: true });
          opened = await open();
          created = 'initdb';
        }
      } else {
        opened = await open();
        created = fresh ? 'initdb' : 'existing';
      }
      lite = opened.l;
      if (fresh) {
        await seed.finishCreation(dataDir);
        opened.fs.resumeFsync();
      }
    }
    const root = new Kysely<Database>({ dialect: new PGliteDialect(lite) });
    const l = lite;
    return {
      ...handle(root, 'pglite', opts.namespace, inMemory ? undefined : dataDir, lock),
      dumpDataDir: () => l.dumpDataDir('gzip'),
      ...(created ? { created } : {}),
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/** How long past its statement_timeout a query may go unanswered before its connection is taken for dead. */
export const UNANSWERED_GRACE_MS = 2_000;

/** A `statement_timeout` given in the URL (milliseconds, as Postgres reads a bare number), which wins over ours. */
function statementTimeoutInUrl(url: string): number | undefined {
  const v = URL.canParse(url) ? new URL(url).searchParams.get('statement_timeout') : null;
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * The one wrapper of this connection's `query`, for two jobs:
 * - Registered SQL texts (statement-names.ts) run as named statements. Kysely's driver calls `query(text, values)`;
 *   only that form is rewritten, everything else passes through untouched.
 * - With `unansweredMs` > 0: a query still unanswered that long after it was sent, though the server cancels any
 *   statement at statement_timeout, means the peer is gone without a FIN or RST (a failover that moved the address,
 *   a partition): the socket is destroyed, so the query fails as `Connection terminated` (answered 503), the pool
 *   discards the client, and the slot is free again instead of held until TCP keepalive gives up minutes later.
 *   node-postgres exposes the socket only as `client.connection.stream`; without it, no timer is set.
 */
function wrapQueries(client: pg.PoolClient, unansweredMs: number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  const watch = unansweredMs > 0 && typeof stream?.destroy === 'function';
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    const name = args.length === 2 && typeof text === 'string' ? statementName(text) : undefined;
    const result = name ? query({ name, text, values }) : query(...args);
    if (!watch || !(result instanceof Promise)) return result;
    const timer = setTimeout(() => stream!.destroy!(), unansweredMs);
    return result.finally(() => clearTimeout(timer));
  };
}

/**
 * What a dropped connection (Postgres restarted or failed over, pg_terminate_backend, a proxy's idle timeout) costs:
 * one warning. Without a listener, Node turns the pool's or the client's `error` event into a process exit. The pool
 * has already discarded the client (pg-pool removes an idle client that errors, and refuses a released one that is
 * no longer queryable) and opens a new connection on the next demand; a query that was running on it fails and
 * is answered 503 database_unavailable by the error handler. An idle client's error reaches both the client's
 * listener and the pool's: it is logged once. The message and SQLSTATE are logged, never the URL.
 */
function connectionErrorReporter(logger: WarnLogger | undefined): (err: Error) => void {
  const seen = new WeakSet<Error>();
  return (err) => {
    if (seen.has(err)) return;
    seen.add(err);
    const code = (err as { code?: unknown }).code;
    logger?.warn({ code: typeof code === 'string' ? code : undefined, reason: err.message }, 'database connection lost; it is replaced on next use');
  };
}

function handle(
  root: Kysely<Database>,
  kind: DatabaseHandle['kind'],
  namespace: string,
  dataDir: string | undefined,
  lock?: DataFolderLock,
): DatabaseHandle {
  return {
    db: root.withSchema(namespace),
    root,
    kind,
    namespace,
    dataDir,
    ping: (timeoutMs) => ping(root, timeoutMs),
    destroy: async () => {
      try {
        await root.destroy();
      } finally {
        lock?.release();
      }
    },
  };
}

async function ping(root: Kysely<Database>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(databaseTimedOut(timeoutMs)), timeoutMs);
  });
  const answer = sql`select 1`.execute(root);
  // The losing query may still fail later; its outcome no longer matters.
  answer.catch(() => {});
  try {
    await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
