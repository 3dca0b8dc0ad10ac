import { sql, type Kysely } from 'kysely';

/**
 * OAuth server (issue 15, items 3 and 6), this server's client settings:
 * - `require_mfa`: authorizing the client needs an aal2 session;
 * - `post_logout_redirect_uris` (comma-separated, as redirect_uris): where RP-initiated logout may send the browser;
 * - `backchannel_logout_uri`: where a signed logout token is POSTed when a session issued to the client ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table oauth_clients add column require_mfa boolean not null default false;
    alter table oauth_clients add column post_logout_redirect_uris text not null default '' check (char_length(post_logout_redirect_uris) <= 21000);
    alter table oauth_clients add column backchannel_logout_uri text null check (char_length(backchannel_logout_uri) <= 2048);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table oauth_clients drop column if exists require_mfa, drop column if exists post_logout_redirect_uris,
      drop column if exists backchannel_logout_uri;
  `.execute(db);
}
