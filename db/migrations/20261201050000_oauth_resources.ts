import { sql, type Kysely } from 'kysely';

/**
 * OAuth server (issue 15, item 4): resource servers with their own scopes. A resource is an RFC 8707 resource
 * indicator (its URI, unique), a display name, its custom scopes (`[{name, description}]`), and how its access
 * tokens are made: lifetime in seconds (null = the server's JWT expiry) and signing algorithm (null = the signing
 * key's). Sessions already name their resource by URI (sessions.oauth_resource); deleting a resource ends them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table oauth_resources (
      id uuid primary key,
      resource text not null check (char_length(resource) between 1 and 2048),
      name text not null check (char_length(name) between 1 and 255),
      scopes jsonb not null default '[]'::jsonb check (jsonb_typeof(scopes) = 'array'),
      access_token_ttl integer null check (access_token_ttl between 60 and 86400),
      signing_alg text null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create unique index oauth_resources_resource_key on oauth_resources (resource)`.execute(db);
  await sql`create index if not exists sessions_oauth_resource_idx on sessions (oauth_resource) where oauth_resource is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists sessions_oauth_resource_idx`.execute(db);
  await sql`drop table if exists oauth_resources`.execute(db);
}
