import { sql, type Kysely } from 'kysely';

/**
 * An index for GET /admin/users, the one per-request query without one: it reads an audience's users newest (or
 * oldest) first, `where instance_id = … and aud = … order by created_at, id`, and in cursor mode resumes with
 * `(created_at, id) < (…)`. With this index a page is an index range scan from the cursor, flat at a million users,
 * instead of a sort of the whole audience; the offset mode's count reads it as an index-only scan.
 * Every other per-request look-up already has its index (primary keys, users_instance_id_email_idx, the phone and
 * refresh-token unique keys, identities_user_id_idx, factor_id_created_at_idx); test/integration/query-plans.test.ts
 * asserts the plans.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists users_instance_id_aud_created_at_id_idx on users (instance_id, aud, created_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists users_instance_id_aud_created_at_id_idx`.execute(db);
}
