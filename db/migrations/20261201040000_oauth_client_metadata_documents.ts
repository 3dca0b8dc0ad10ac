import { sql, type Kysely } from 'kysely';

/**
 * MCP authorization (issue 15, item 5): OAuth clients known by a Client ID Metadata Document
 * (draft-ietf-oauth-client-id-metadata-document). Such a client's public client_id is the https URL of its document;
 * its row keeps a uuid `id` like every client (so sessions, grants and consents reference it alike) and:
 * - `metadata_document_url`: the URL (unique among live clients): /oauth/authorize and /oauth/token find it by it;
 * - `metadata_expires_at`: until when the fetched document may be used without fetching it again (HTTP caching,
 *   clamped by GOTRUE_OAUTH_SERVER_CIMD_CACHE_MIN_TTL / _MAX_TTL);
 * - registration_type 'metadata_document'.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter type oauth_registration_type add value if not exists 'metadata_document'`.execute(db);
  await sql`alter table oauth_clients add column metadata_document_url text null check (char_length(metadata_document_url) <= 2048)`.execute(db);
  await sql`alter table oauth_clients add column metadata_expires_at timestamptz null`.execute(db);
  await sql`create unique index oauth_clients_metadata_document_url_key on oauth_clients (metadata_document_url) where deleted_at is null and metadata_document_url is not null`.execute(db);
}

/** The enum value stays (Postgres cannot drop one); nothing uses it once the columns are gone. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists oauth_clients_metadata_document_url_key`.execute(db);
  await sql`alter table oauth_clients drop column if exists metadata_expires_at`.execute(db);
  await sql`alter table oauth_clients drop column if exists metadata_document_url`.execute(db);
}
