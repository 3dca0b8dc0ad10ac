import { CompiledQuery, type Kysely } from 'kysely';
import type { Executor } from '../database';
import type { Database } from '../schema';
import { nameStatement } from '../statement-names';

/** The part of a pg client that rate-limiter-flexible's RateLimiterPostgres calls. */
export interface PgQueryClient {
  query(q: { text: string; values?: unknown[] }): Promise<{ rows: unknown[]; rowCount: number }>;
}

/**
 * The `rate_limits` table as RateLimiterPostgres reaches it: its SQL runs on this app's own connections (the pg
 * pool, or PGlite), so the limiter opens no pool of its own. Its few SQL texts run as named statements on
 * Postgres (statement-names.ts): the upsert runs on every rate-limited request.
 */
export function rateLimitSqlClient(db: Kysely<Database>): PgQueryClient {
  return {
    async query({ text, values = [] }) {
      nameStatement(text);
      const r = await db.executeQuery(CompiledQuery.raw(text, values));
      return { rows: r.rows, rowCount: r.numAffectedRows === undefined ? r.rows.length : Number(r.numAffectedRows) };
    },
  };
}

/** Drops counters whose window ended before `nowMs` (a counter past its window counts from zero anyway). */
export async function deleteExpiredRateLimits(ex: Executor, nowMs: number): Promise<void> {
  await ex.deleteFrom('rate_limits').where('expire', '<', String(nowMs)).execute();
}
