import { randomBytes } from 'node:crypto';
import { openDatabase, type DatabaseHandle } from '../../src/db/database';
import { dropNamespace, migrateToLatest } from '../../src/db/migrate';

/** Postgres when TEST_DATABASE_URL (or DATABASE_URL) is set, else PGlite in memory. */
export const testDatabaseUrl: string | undefined = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
export const onPostgres = testDatabaseUrl !== undefined;
export const dbKind = onPostgres ? 'postgres' : 'pglite';

/**
 * A migrated database of the test file's own: a fresh schema (namespace) on Postgres, dropped on close, or a new
 * in-memory PGlite. Tests never share rows across files.
 */
export async function openTestDatabase(): Promise<DatabaseHandle & { close(): Promise<void> }> {
  const namespace = `t_${randomBytes(6).toString('hex')}`;
  const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 20, dataDir: 'memory://' });
  await migrateToLatest(handle);
  return {
    ...handle,
    async close() {
      if (handle.kind === 'postgres') await dropNamespace(handle);
      await handle.destroy();
    },
  };
}

/** The handle openTestDatabase returns. */
export type TestDatabase = Awaited<ReturnType<typeof openTestDatabase>>;
