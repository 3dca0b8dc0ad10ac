import { sql, type Kysely } from 'kysely';

/**
 * OAuth server (issue 15, item 3): a client's `default_max_age` (OIDC Dynamic Client Registration §2): the `max_age`
 * of its authorization requests that send none, in seconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table oauth_clients add column default_max_age integer null check (default_max_age >= 0 and default_max_age <= 31536000)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table oauth_clients drop column if exists default_max_age`.execute(db);
}
