import { sql, type Kysely } from 'kysely';

/**
 * GoTrue's core tables, as Supabase Auth's migrations leave them on Postgres 15 (contract §4), so a GoTrue
 * user's rows map across column for column. Runs with search_path set to the auth namespace, so names are
 * unqualified. Frozen once landed: change the schema in a new migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create type aal_level as enum ('aal1', 'aal2', 'aal3');
    create type code_challenge_method as enum ('s256', 'plain');
    create type factor_type as enum ('totp', 'webauthn', 'phone');
    create type factor_status as enum ('unverified', 'verified');
    create type one_time_token_type as enum (
      'confirmation_token', 'reauthentication_token', 'recovery_token',
      'email_change_token_new', 'email_change_token_current', 'phone_change_token'
    );

    create table users (
      instance_id uuid null,
      id uuid not null primary key,
      aud varchar(255) null,
      role varchar(255) null,
      email varchar(255) null,
      encrypted_password varchar(255) null,
      email_confirmed_at timestamptz null,
      invited_at timestamptz null,
      confirmation_token varchar(255) null,
      confirmation_sent_at timestamptz null,
      recovery_token varchar(255) null,
      recovery_sent_at timestamptz null,
      email_change_token_new varchar(255) null,
      email_change varchar(255) null,
      email_change_sent_at timestamptz null,
      last_sign_in_at timestamptz null,
      raw_app_meta_data jsonb null,
      raw_user_meta_data jsonb null,
      is_super_admin bool null,
      created_at timestamptz null,
      updated_at timestamptz null,
      phone text null unique default null,
      phone_confirmed_at timestamptz null,
      phone_change text null default '',
      phone_change_token varchar(255) null default '',
      phone_change_sent_at timestamptz null,
      confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
      email_change_token_current varchar(255) null default '',
      email_change_confirm_status smallint null default 0
        check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
      banned_until timestamptz null,
      reauthentication_token varchar(255) null default '',
      reauthentication_sent_at timestamptz null,
      is_sso_user boolean not null default false,
      deleted_at timestamptz null,
      is_anonymous boolean not null default false
    );
    comment on column users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
    create unique index users_email_partial_key on users (email) where (is_sso_user = false);
    create index users_instance_id_email_idx on users (instance_id, lower(email));
    create index users_instance_id_idx on users (instance_id);
    create index users_is_anonymous_idx on users (is_anonymous);
    create unique index confirmation_token_idx on users (confirmation_token) where confirmation_token !~ '^[0-9 ]*$';
    create unique index recovery_token_idx on users (recovery_token) where recovery_token !~ '^[0-9 ]*$';
    create unique index email_change_token_current_idx on users (email_change_token_current) where email_change_token_current !~ '^[0-9 ]*$';
    create unique index email_change_token_new_idx on users (email_change_token_new) where email_change_token_new !~ '^[0-9 ]*$';
    create unique index reauthentication_token_idx on users (reauthentication_token) where reauthentication_token !~ '^[0-9 ]*$';

    create table identities (
      provider_id text not null,
      user_id uuid not null references users(id) on delete cascade,
      identity_data jsonb not null,
      provider text not null,
      last_sign_in_at timestamptz null,
      created_at timestamptz null,
      updated_at timestamptz null,
      email text generated always as (lower(identity_data->>'email')) stored,
      id uuid not null default gen_random_uuid() primary key,
      constraint identities_provider_id_provider_unique unique (provider_id, provider)
    );
    create index identities_user_id_idx on identities (user_id);
    create index identities_email_idx on identities (email text_pattern_ops);

    create table sessions (
      id uuid not null primary key,
      user_id uuid not null references users(id) on delete cascade,
      created_at timestamptz null,
      updated_at timestamptz null,
      factor_id uuid null,
      aal aal_level null,
      not_after timestamptz null,
      refreshed_at timestamp without time zone null,
      user_agent text null,
      ip inet null,
      tag text null,
      oauth_client_id uuid null,
      refresh_token_hmac_key text null,
      refresh_token_counter bigint null,
      scopes text null
    );
    create index sessions_user_id_idx on sessions (user_id);
    create index user_id_created_at_idx on sessions (user_id, created_at);
    create index sessions_not_after_idx on sessions (not_after desc);

    create table refresh_tokens (
      instance_id uuid null,
      id bigserial primary key,
      token varchar(255) null unique,
      user_id varchar(255) null,
      revoked bool null,
      created_at timestamptz null,
      updated_at timestamptz null,
      parent varchar(255) null,
      session_id uuid null references sessions(id) on delete cascade
    );
    create index refresh_tokens_instance_id_idx on refresh_tokens (instance_id);
    create index refresh_tokens_instance_id_user_id_idx on refresh_tokens (instance_id, user_id);
    create index refresh_tokens_parent_idx on refresh_tokens (parent);
    create index refresh_tokens_session_id_revoked_idx on refresh_tokens (session_id, revoked);
    create index refresh_tokens_updated_at_idx on refresh_tokens (updated_at desc);

    create table audit_log_entries (
      instance_id uuid null,
      id uuid not null primary key,
      payload json null,
      created_at timestamptz null,
      ip_address varchar(64) not null default ''
    );
    create index audit_logs_instance_id_idx on audit_log_entries (instance_id);

    create table flow_state (
      id uuid primary key,
      user_id uuid null,
      auth_code text null,
      code_challenge_method code_challenge_method null,
      code_challenge text null,
      provider_type text not null,
      provider_access_token text null,
      provider_refresh_token text null,
      created_at timestamptz null,
      updated_at timestamptz null,
      authentication_method text not null,
      auth_code_issued_at timestamptz null,
      invite_token text null,
      referrer text null,
      oauth_client_state_id uuid null,
      linking_target_id uuid null,
      email_optional boolean not null default false
    );
    create index idx_auth_code on flow_state (auth_code);
    create index idx_user_id_auth_method on flow_state (user_id, authentication_method);
    create index flow_state_created_at_idx on flow_state (created_at desc);

    create table one_time_tokens (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      token_type one_time_token_type not null,
      token_hash text not null check (char_length(token_hash) > 0),
      relates_to text not null,
      created_at timestamp without time zone not null default now(),
      updated_at timestamp without time zone not null default now()
    );
    create unique index one_time_tokens_user_id_token_type_key on one_time_tokens (user_id, token_type);
    create index one_time_tokens_token_hash_hash_idx on one_time_tokens using hash (token_hash);
    create index one_time_tokens_relates_to_hash_idx on one_time_tokens using hash (relates_to);

    create table mfa_factors (
      id uuid not null primary key,
      user_id uuid not null references users(id) on delete cascade,
      friendly_name text null,
      factor_type factor_type not null,
      status factor_status not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      secret text null,
      phone text null,
      last_challenged_at timestamptz null unique,
      web_authn_credential jsonb null,
      web_authn_aaguid uuid null,
      last_webauthn_challenge_data jsonb null
    );
    create unique index mfa_factors_user_friendly_name_unique on mfa_factors (friendly_name, user_id) where trim(friendly_name) <> '';
    create index factor_id_created_at_idx on mfa_factors (user_id, created_at);
    create unique index unique_phone_factor_per_user on mfa_factors (user_id, phone);

    create table mfa_challenges (
      id uuid not null primary key,
      factor_id uuid not null references mfa_factors(id) on delete cascade,
      created_at timestamptz not null,
      verified_at timestamptz null,
      ip_address inet not null,
      otp_code text null,
      web_authn_session_data jsonb null
    );
    create index mfa_challenge_created_at_idx on mfa_challenges (created_at desc);

    create table mfa_amr_claims (
      session_id uuid not null references sessions(id) on delete cascade,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      authentication_method text not null,
      id uuid not null primary key,
      constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method)
    );

    alter table users enable row level security;
    alter table identities enable row level security;
    alter table sessions enable row level security;
    alter table refresh_tokens enable row level security;
    alter table audit_log_entries enable row level security;
    alter table flow_state enable row level security;
    alter table one_time_tokens enable row level security;
    alter table mfa_factors enable row level security;
    alter table mfa_challenges enable row level security;
    alter table mfa_amr_claims enable row level security;

    create function uid() returns uuid language sql stable as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $$;
    create function role() returns text language sql stable as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $$;
    create function email() returns text language sql stable as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
      )::text
    $$;
    create function jwt() returns jsonb language sql stable as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function if exists jwt();
    drop function if exists email();
    drop function if exists role();
    drop function if exists uid();
    drop table if exists mfa_amr_claims, mfa_challenges, mfa_factors, one_time_tokens, flow_state,
      audit_log_entries, refresh_tokens, sessions, identities, users;
    drop type if exists one_time_token_type, factor_status, factor_type, code_challenge_method, aal_level;
  `.execute(db);
}
