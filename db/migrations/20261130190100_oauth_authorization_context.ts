import { sql, type Kysely } from 'kysely';

/**
 * OAuth server (issue 12), what GoTrue's oauth_authorizations lacks for OpenID Connect:
 * - `prompt`, `max_age`: the request's OIDC parameters (prompt=consent asks again even when granted; max_age bounds
 *   how long ago the user may have signed in);
 * - `auth_methods`, `auth_aal`: how the user who approved had signed in (the consenting session's AMR methods,
 *   comma-separated, and its AAL): the ID token's `amr` and `acr`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table oauth_authorizations add column prompt text null check (char_length(prompt) <= 64);
    alter table oauth_authorizations add column max_age integer null check (max_age >= 0);
    alter table oauth_authorizations add column auth_methods text null check (char_length(auth_methods) <= 1024);
    alter table oauth_authorizations add column auth_aal text null check (char_length(auth_aal) <= 8);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table oauth_authorizations drop column if exists prompt, drop column if exists max_age,
      drop column if exists auth_methods, drop column if exists auth_aal;
  `.execute(db);
}
