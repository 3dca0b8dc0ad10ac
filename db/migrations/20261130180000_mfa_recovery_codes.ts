import { sql, type Kysely } from 'kysely';

/**
 * MFA recovery codes (auth-js's experimental `mfa.recoveryCodes`; GoTrue has no server side for them):
 * - `factor_type` gains `recovery_code`: a user's one set of codes is a factor row, verified from birth.
 * - `mfa_recovery_codes`: one row per code, only its SHA-256 (bound to the factor) stored; `used_at` is set once, by
 *   the one UPDATE that consumes it.
 * - `mfa_factors.failed_verify_attempts` / `locked_until`: wrong recovery codes in a row, and the lockout they cause.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter type factor_type add value if not exists 'recovery_code'`.execute(db);
  await sql`
    create table mfa_recovery_codes (
      id uuid primary key,
      factor_id uuid not null references mfa_factors(id) on delete cascade,
      code_hash text not null,
      created_at timestamptz not null,
      used_at timestamptz null,
      unique (factor_id, code_hash)
    )
  `.execute(db);
  await sql`alter table mfa_recovery_codes enable row level security`.execute(db);
  await sql`alter table mfa_factors add column failed_verify_attempts integer not null default 0`.execute(db);
  await sql`alter table mfa_factors add column locked_until timestamptz null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists mfa_recovery_codes`.execute(db);
  await sql`delete from mfa_factors where factor_type::text = 'recovery_code'`.execute(db);
  await sql`alter table mfa_factors drop column if exists failed_verify_attempts, drop column if exists locked_until`.execute(db);
}
