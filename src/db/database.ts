import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
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
  destroy(): Promise<void>;
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
}

/**
 * Opens Postgres through a pg pool when a URL is given, else PGlite in dataDir. A PGlite folder admits one
 * process: its single-writer lock (data-folder-lock.ts) is taken before PGlite opens it, so a second opener gets
 * DataFolderInUseError and writes nothing, and it is released by destroy() (or at exit). `memory://` takes none.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.maxPoolSize });
    pool.on('connect', useNamedStatements);
    const root = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return handle(root, 'postgres', opts.namespace, undefined);
  }
  const inMemory = opts.dataDir.startsWith('memory://');
  const dataDir = inMemory ? opts.dataDir : resolve(opts.dataDir);
  let lock: DataFolderLock | undefined;
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    lock = lockDataFolder(dataDir);
  }
  try {
    const lite = new PGlite(inMemory ? opts.dataDir : `${dataDir}/pgdata`, {
      parsers: { 20: (s: string) => s, 1114: parseUtcTimestamp },
    });
    await lite.waitReady;
    const root = new Kysely<Database>({ dialect: new PGliteDialect(lite) });
    return handle(root, 'pglite', opts.namespace, inMemory ? undefined : dataDir, lock);
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/**
 * Runs registered SQL texts (statement-names.ts) as named statements on this connection. Kysely's driver calls
 * `query(text, values)`; only that form is rewritten, everything else passes through untouched.
 */
function useNamedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    const name = args.length === 2 && typeof text === 'string' ? statementName(text) : undefined;
    return name ? query({ name, text, values }) : query(...args);
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
    destroy: async () => {
      try {
        await root.destroy();
      } finally {
        lock?.release();
      }
    },
  };
}
