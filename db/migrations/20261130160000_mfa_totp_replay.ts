import { sql, type Kysely } from 'kysely';

/**
 * MFA bookkeeping GoTrue's schema lacks:
 * - `mfa_factors.last_totp_step`: the 30-second TOTP time step of the last code a factor accepted, so a code cannot
 *   be replayed within its window (GoTrue accepts the same code again on a new challenge; RFC 6238 §5.2 says not to).
 * - drops GoTrue's UNIQUE on `mfa_factors.last_challenged_at`: this server's clock has millisecond resolution, so two
 *   users challenging in the same millisecond would collide on an index that protects nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table mfa_factors add column last_totp_step bigint null`.execute(db);
  await sql`alter table mfa_factors drop constraint if exists mfa_factors_last_challenged_at_key`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table mfa_factors drop column if exists last_totp_step`.execute(db);
}
