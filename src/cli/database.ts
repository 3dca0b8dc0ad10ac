import type { Logger } from 'pino';
import type { Config } from '../config';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { migrateToLatest, migrationStatus } from '../db/migrate';

/**
 * The configured database. `logger` hears of dropped connections (serve passes it); `statementTimeout: false`
 * lifts GOTRUE_DB_STATEMENT_TIMEOUT for work that may legitimately run long (migrations).
 */
export const openConfiguredDatabase = (config: Config, o: { logger?: Logger; statementTimeout?: boolean } = {}) =>
  openDatabase({
    url: config.db.url,
    namespace: config.db.namespace,
    maxPoolSize: config.db.maxPoolSize,
    dataDir: config.db.dataDir,
    connectTimeoutMs: config.db.connectTimeoutMs,
    statementTimeoutMs: o.statementTimeout === false ? 0 : config.db.statementTimeoutMs,
    logger: o.logger,
  });

/**
 * Prepares the schema: the embedded database migrates itself; on Postgres, `./gotrue migrate` does that and
 * serve refuses to start against a schema with pending migrations.
 */
export async function prepareSchema(database: DatabaseHandle, logger: Logger): Promise<void> {
  if (database.kind === 'pglite') {
    const applied = await migrateToLatest(database);
    // created: 'seed' (the build's pre-initialised database), 'initdb' (no usable seed) or 'existing'.
    logger.info({ data_dir: database.dataDir, created: database.created, applied }, `embedded database at ${database.dataDir}`);
    return;
  }
  const pending = (await migrationStatus(database)).filter((m) => !m.executedAt).map((m) => m.name);
  if (pending.length > 0) {
    throw new Error(`the database has pending migrations (${pending.join(', ')}): run ./gotrue migrate first`);
  }
}
