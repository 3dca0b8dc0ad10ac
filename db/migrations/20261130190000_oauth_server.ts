import { sql, type Kysely } from 'kysely';

/**
 * The OAuth 2.1 / OpenID provider (issue 12). GoTrue's tables, column for column (its migrations 20250731150234,
 * 20250804100000, 20250901200500, 20250903112500, 20250904133000, 20251104100000, 20260121000000), so a Supabase
 * project's clients, authorizations and consents map across:
 * - `oauth_clients` (the id is the public client_id; secrets as base64url SHA-256, as GoTrue), `oauth_authorizations`,
 *   `oauth_consents`; sessions.oauth_client_id gains GoTrue's foreign key.
 * What GoTrue lacks, added here:
 * - `oauth_clients.access_token_ttl` / `refresh_token_ttl`: per-client lifetimes in seconds (null = the server's);
 * - `oauth_authorizations.session_id`: the session a code was redeemed for (null = not redeemed). The row outlives
 *   the exchange so a second use of a code is recognised and ends what the first issued (RFC 6749 §4.1.2);
 *   `authorization_code` holds the code's SHA-256, never the code;
 * - `oauth_authorizations.auth_time`: when the user approved (the ID token's auth_time);
 * - `sessions.oauth_resource`: the RFC 8707 resource an OAuth session's access tokens are for (their `aud`).
 *   (`sessions.scopes` is GoTrue's and already exists.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create type oauth_registration_type as enum ('dynamic', 'manual');
    create type oauth_client_type as enum ('public', 'confidential');
    create type oauth_authorization_status as enum ('pending', 'approved', 'denied', 'expired');
    create type oauth_response_type as enum ('code');

    create table oauth_clients (
      id uuid not null primary key,
      client_secret_hash text null,
      registration_type oauth_registration_type not null,
      redirect_uris text not null,
      grant_types text not null,
      client_name text null,
      client_uri text null,
      logo_uri text null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz null,
      client_type oauth_client_type not null default 'confidential',
      token_endpoint_auth_method text not null check (token_endpoint_auth_method in ('client_secret_basic', 'client_secret_post', 'none')),
      access_token_ttl integer null check (access_token_ttl > 0),
      refresh_token_ttl integer null check (refresh_token_ttl > 0),
      constraint oauth_clients_client_name_length check (char_length(client_name) <= 1024),
      constraint oauth_clients_client_uri_length check (char_length(client_uri) <= 2048),
      constraint oauth_clients_logo_uri_length check (char_length(logo_uri) <= 2048)
    );
    create index oauth_clients_deleted_at_idx on oauth_clients (deleted_at);

    create table oauth_authorizations (
      id uuid not null primary key,
      authorization_id text not null unique,
      client_id uuid not null references oauth_clients(id) on delete cascade,
      user_id uuid null references users(id) on delete cascade,
      redirect_uri text not null,
      scope text not null,
      state text null,
      resource text null,
      code_challenge text null,
      code_challenge_method code_challenge_method null,
      response_type oauth_response_type not null default 'code',
      status oauth_authorization_status not null default 'pending',
      authorization_code text null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null default (now() + interval '3 minutes'),
      approved_at timestamptz null,
      nonce text null,
      session_id uuid null,
      auth_time timestamptz null,
      constraint oauth_authorizations_redirect_uri_length check (char_length(redirect_uri) <= 2048),
      constraint oauth_authorizations_scope_length check (char_length(scope) <= 4096),
      constraint oauth_authorizations_state_length check (char_length(state) <= 4096),
      constraint oauth_authorizations_resource_length check (char_length(resource) <= 2048),
      constraint oauth_authorizations_code_challenge_length check (char_length(code_challenge) <= 128),
      constraint oauth_authorizations_authorization_code_length check (char_length(authorization_code) <= 255),
      constraint oauth_authorizations_nonce_length check (char_length(nonce) <= 255),
      constraint oauth_authorizations_expires_at_future check (expires_at > created_at)
    );
    create index oauth_auth_pending_exp_idx on oauth_authorizations (expires_at) where status = 'pending';

    create table oauth_consents (
      id uuid not null primary key,
      user_id uuid not null references users(id) on delete cascade,
      client_id uuid not null references oauth_clients(id) on delete cascade,
      scopes text not null,
      granted_at timestamptz not null default now(),
      revoked_at timestamptz null,
      constraint oauth_consents_user_client_unique unique (user_id, client_id),
      constraint oauth_consents_scopes_length check (char_length(scopes) <= 2048),
      constraint oauth_consents_scopes_not_empty check (char_length(trim(scopes)) > 0),
      constraint oauth_consents_revoked_after_granted check (revoked_at is null or revoked_at >= granted_at)
    );
    create index oauth_consents_active_client_idx on oauth_consents (client_id) where revoked_at is null;
    create index oauth_consents_user_order_idx on oauth_consents (user_id, granted_at desc);

    alter table sessions add constraint sessions_oauth_client_id_fkey foreign key (oauth_client_id) references oauth_clients(id) on delete cascade;
    create index sessions_oauth_client_id_idx on sessions (oauth_client_id);
    alter table sessions add column oauth_resource text null;

    alter table oauth_clients enable row level security;
    alter table oauth_authorizations enable row level security;
    alter table oauth_consents enable row level security;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table sessions drop column if exists oauth_resource;
    alter table sessions drop constraint if exists sessions_oauth_client_id_fkey;
    drop index if exists sessions_oauth_client_id_idx;
    drop table if exists oauth_consents, oauth_authorizations, oauth_clients;
    drop type if exists oauth_response_type, oauth_authorization_status, oauth_client_type, oauth_registration_type;
  `.execute(db);
}
