import { sql, type Kysely } from 'kysely';

/**
 * Counts wrong guesses against a one-time token, so a code can be invalidated after a few (GoTrue has no such
 * limit; users asked for one). A new token of the kind starts again at zero.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table one_time_tokens add column verify_attempts smallint not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table one_time_tokens drop column if exists verify_attempts`.execute(db);
}
