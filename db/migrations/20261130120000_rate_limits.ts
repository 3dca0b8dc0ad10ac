import { sql, type Kysely } from 'kysely';

/**
 * Rate-limit counters shared by every process on this database (GOTRUE_RATE_LIMIT_STORE=postgres). The columns,
 * in this order, are the ones rate-limiter-flexible's RateLimiterPostgres reads and writes (it inserts by
 * position): the key, the points consumed in the window, and the window's end in epoch milliseconds. Created
 * here rather than by the library at run time, so it lives in the auth namespace and the app needs no DDL rights.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rate_limits (
      key varchar(255) primary key,
      points integer not null default 0,
      expire bigint
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists rate_limits`.execute(db);
}
