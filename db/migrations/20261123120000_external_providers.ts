import { sql, type Kysely } from 'kysely';

/**
 * External OAuth providers (issue 5): GoTrue's oauth_client_states (the server-side PKCE verifier, plus the OIDC
 * nonce, of an upstream authorization request) and custom_oauth_providers (generic providers added through the
 * admin API), and this server's provider token vault (provider access/refresh tokens, AES-256-GCM encrypted,
 * one row per identity). Runs with search_path set to the auth namespace.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table oauth_client_states (
      id uuid primary key,
      provider_type text not null,
      code_verifier text null,
      nonce text null,
      created_at timestamptz not null
    );
    create index idx_oauth_client_states_created_at on oauth_client_states (created_at);

    create table custom_oauth_providers (
      id uuid primary key,
      identifier text not null unique check (identifier ~ '^custom:[a-z0-9][a-z0-9_-]{0,49}$'),
      provider_type text not null check (provider_type in ('oauth2', 'oidc')),
      name text not null,
      client_id text not null,
      client_secret text not null,
      acceptable_client_ids jsonb not null default '[]',
      scopes jsonb not null default '[]',
      custom_claims_allowlist jsonb not null default '[]',
      pkce_enabled boolean not null default true,
      attribute_mapping jsonb not null default '{}',
      authorization_params jsonb not null default '{}',
      enabled boolean not null default true,
      email_optional boolean not null default false,
      issuer text null,
      discovery_url text null,
      skip_nonce_check boolean not null default false,
      authorization_url text null,
      token_url text null,
      userinfo_url text null,
      jwks_uri text null,
      discovery_document jsonb null,
      client_auth text not null default 'basic' check (client_auth in ('basic', 'post', 'both')),
      issues_refresh_tokens boolean not null default true,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );

    create table provider_tokens (
      id uuid primary key,
      identity_id uuid not null unique references identities(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      provider text not null,
      access_token text null,
      refresh_token text null,
      token_type text null,
      scope text null,
      expires_at timestamptz null,
      revoked_at timestamptz null,
      refreshed_at timestamptz null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create index provider_tokens_user_id_provider_idx on provider_tokens (user_id, provider);

    alter table oauth_client_states enable row level security;
    alter table custom_oauth_providers enable row level security;
    alter table provider_tokens enable row level security;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists provider_tokens, custom_oauth_providers, oauth_client_states;`.execute(db);
}
