import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from '../../db/migrations/index';
import type { DatabaseHandle } from './database';

/** Arbitrary constant: the session advisory lock every migrating process takes first. */
export const MIGRATE_LOCK = 7_311_904_552;

async function withMigrator<T>(h: DatabaseHandle, fn: (m: Migrator) => Promise<T>): Promise<T> {
  // One connection for the whole run: the advisory lock, search_path and the migrator's transaction share it,
  // so two processes migrating at once run one after the other.
  return (h.root as unknown as Kysely<unknown>).connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATE_LOCK)})`.execute(conn);
    try {
      await sql`create schema if not exists ${sql.id(h.namespace)}`.execute(conn);
      await sql`set search_path to ${sql.id(h.namespace)}`.execute(conn);
      const migrator = new Migrator({
        db: conn,
        provider: { getMigrations: async () => migrations },
        migrationTableSchema: h.namespace,
      });
      return await fn(migrator);
    } finally {
      await sql`reset search_path`.execute(conn);
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATE_LOCK)})`.execute(conn);
    }
  });
}

/** Error thrown when a migration run fails; names the migration. */
export class MigrationError extends Error {}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationError(
      `migration ${failed?.migrationName ?? '(setup)'} failed: ${String((result.error as Error).message ?? result.error)}`,
      { cause: result.error },
    );
  }
  return result;
}

/** Applies every pending migration. Idempotent; safe when several processes run it at once. */
export async function migrateToLatest(h: DatabaseHandle): Promise<string[]> {
  const result = check(await withMigrator(h, (m) => m.migrateToLatest()));
  return (result.results ?? []).map((r) => r.migrationName);
}

/** Reverts the most recent migration. */
export async function migrateDown(h: DatabaseHandle): Promise<string[]> {
  const result = check(await withMigrator(h, (m) => m.migrateDown()));
  return (result.results ?? []).map((r) => r.migrationName);
}

export async function migrationStatus(h: DatabaseHandle): Promise<{ name: string; executedAt: Date | undefined }[]> {
  const list = await withMigrator(h, (m) => m.getMigrations());
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}

/**
 * Drops the namespace and everything in it, under the migration lock. The lock matters: the migrator reads the
 * catalog of every schema (Kysely's introspection), and a schema dropped in the middle of that read fails it with
 * "schema … does not exist". Tests drop their throw-away schemas this way.
 */
export async function dropNamespace(h: DatabaseHandle): Promise<void> {
  await (h.root as unknown as Kysely<unknown>).connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATE_LOCK)})`.execute(conn);
    try {
      await sql`drop schema if exists ${sql.id(h.namespace)} cascade`.execute(conn);
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATE_LOCK)})`.execute(conn);
    }
  });
}
