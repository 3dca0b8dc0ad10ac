import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** JSON columns: objects when read, JSON text when written (the same on pg and PGlite). */
export type JsonObject = { [k: string]: unknown };
type Json<T = JsonObject> = ColumnType<T, string, string>;
type JsonNullable<T = JsonObject> = ColumnType<T | null, string | null | undefined, string | null>;
type Timestamp = ColumnType<Date, Date, Date>;
type TimestampNullable = ColumnType<Date | null, Date | null | undefined, Date | null>;

export interface UsersTable {
  instance_id: string | null;
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: TimestampNullable;
  invited_at: TimestampNullable;
  confirmation_token: string | null;
  confirmation_sent_at: TimestampNullable;
  recovery_token: string | null;
  recovery_sent_at: TimestampNullable;
  email_change_token_new: string | null;
  email_change: string | null;
  email_change_sent_at: TimestampNullable;
  last_sign_in_at: TimestampNullable;
  raw_app_meta_data: JsonNullable;
  raw_user_meta_data: JsonNullable;
  is_super_admin: boolean | null;
  created_at: TimestampNullable;
  updated_at: TimestampNullable;
  phone: string | null;
  phone_confirmed_at: TimestampNullable;
  phone_change: string | null;
  phone_change_token: string | null;
  phone_change_sent_at: TimestampNullable;
  confirmed_at: ColumnType<Date | null, never, never>;
  email_change_token_current: string | null;
  email_change_confirm_status: number | null;
  banned_until: TimestampNullable;
  reauthentication_token: string | null;
  reauthentication_sent_at: TimestampNullable;
  is_sso_user: Generated<boolean>;
  deleted_at: TimestampNullable;
  is_anonymous: Generated<boolean>;
}

export interface IdentitiesTable {
  provider_id: string;
  user_id: string;
  identity_data: Json;
  provider: string;
  last_sign_in_at: TimestampNullable;
  created_at: TimestampNullable;
  updated_at: TimestampNullable;
  email: ColumnType<string | null, never, never>;
  id: Generated<string>;
}

export type AalLevel = 'aal1' | 'aal2' | 'aal3';

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: TimestampNullable;
  updated_at: TimestampNullable;
  factor_id: string | null;
  aal: AalLevel | null;
  not_after: TimestampNullable;
  refreshed_at: TimestampNullable;
  user_agent: string | null;
  ip: string | null;
  tag: string | null;
  oauth_client_id: string | null;
  refresh_token_hmac_key: string | null;
  refresh_token_counter: string | null;
  scopes: string | null;
  /** OAuth server: the RFC 8707 resource the session's access tokens are for (their aud); this server's column. */
  oauth_resource: string | null;
}

export interface RefreshTokensTable {
  instance_id: string | null;
  /** bigserial; read as a string to keep 64-bit ids exact. */
  id: ColumnType<string, never, never>;
  token: string | null;
  user_id: string | null;
  revoked: boolean | null;
  created_at: TimestampNullable;
  updated_at: TimestampNullable;
  parent: string | null;
  session_id: string | null;
}

export interface AuditLogEntriesTable {
  instance_id: string | null;
  id: string;
  payload: JsonNullable;
  created_at: TimestampNullable;
  ip_address: Generated<string>;
}

export interface FlowStateTable {
  id: string;
  user_id: string | null;
  auth_code: string | null;
  code_challenge_method: 's256' | 'plain' | null;
  code_challenge: string | null;
  provider_type: string;
  provider_access_token: string | null;
  provider_refresh_token: string | null;
  created_at: TimestampNullable;
  updated_at: TimestampNullable;
  authentication_method: string;
  auth_code_issued_at: TimestampNullable;
  invite_token: string | null;
  referrer: string | null;
  oauth_client_state_id: string | null;
  linking_target_id: string | null;
  email_optional: Generated<boolean>;
}

export type OneTimeTokenType =
  | 'confirmation_token'
  | 'reauthentication_token'
  | 'recovery_token'
  | 'email_change_token_new'
  | 'email_change_token_current'
  | 'phone_change_token';

export interface OneTimeTokensTable {
  id: string;
  user_id: string;
  token_type: OneTimeTokenType;
  token_hash: string;
  relates_to: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Wrong guesses so far (migration 20261123100000). */
  verify_attempts: Generated<number>;
}

export interface MfaFactorsTable {
  id: string;
  user_id: string;
  friendly_name: string | null;
  factor_type: 'totp' | 'webauthn' | 'phone' | 'recovery_code';
  status: 'unverified' | 'verified';
  created_at: Timestamp;
  updated_at: Timestamp;
  secret: string | null;
  phone: string | null;
  last_challenged_at: TimestampNullable;
  web_authn_credential: JsonNullable;
  web_authn_aaguid: string | null;
  last_webauthn_challenge_data: JsonNullable;
  /** The TOTP time step of the last accepted code (migration 20261130160000); int8, read as a string. */
  last_totp_step: ColumnType<string | null, number | null | undefined, number | null>;
  /** Wrong recovery codes in a row, and the lockout they caused (migration 20261130180000). */
  failed_verify_attempts: Generated<number>;
  locked_until: TimestampNullable;
}

/** One MFA recovery code of a `recovery_code` factor: only its hash (migration 20261130180000). */
export interface MfaRecoveryCodesTable {
  id: string;
  factor_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: TimestampNullable;
}

export interface MfaChallengesTable {
  id: string;
  factor_id: string;
  created_at: Timestamp;
  verified_at: TimestampNullable;
  ip_address: string;
  otp_code: string | null;
  web_authn_session_data: JsonNullable;
}

export interface MfaAmrClaimsTable {
  session_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  authentication_method: string;
  id: string;
}

/** OAuth server (issue 12): an app that signs in with us. GoTrue's table; the ttl columns are this server's. */
export interface OauthClientsTable {
  /** The public client_id. */
  id: string;
  /** base64url SHA-256 of the secret (GoTrue's hashing); null for public clients. */
  client_secret_hash: string | null;
  registration_type: 'dynamic' | 'manual' | 'metadata_document';
  /** Comma-separated. */
  redirect_uris: string;
  /** Comma-separated. */
  grant_types: string;
  client_name: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
  client_type: 'public' | 'confidential';
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  /** Issue 15: authorizing this client needs an aal2 session. */
  require_mfa: Generated<boolean>;
  /** Issue 15: comma-separated; where RP-initiated logout may redirect. */
  post_logout_redirect_uris: Generated<string>;
  /** Issue 15: OIDC Back-Channel Logout endpoint of the client. */
  backchannel_logout_uri: string | null;
  /** Issue 15: max_age (seconds) of the client's requests that send none. */
  default_max_age: ColumnType<number | null, number | null | undefined, number | null>;
  /** Issue 15 (MCP): the Client ID Metadata Document URL, the client's public client_id; null for other clients. */
  metadata_document_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** Issue 15 (MCP): until when the fetched document is used without fetching it again. */
  metadata_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** OAuth server: one authorization request, from /oauth/authorize to its code's exchange. */
export interface OauthAuthorizationsTable {
  id: string;
  authorization_id: string;
  client_id: string;
  user_id: string | null;
  redirect_uri: string;
  scope: string;
  state: string | null;
  resource: string | null;
  code_challenge: string | null;
  code_challenge_method: 's256' | 'plain' | null;
  response_type: ColumnType<'code', 'code' | undefined, 'code'>;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  /** SHA-256 (hex) of the code, never the code. */
  authorization_code: string | null;
  created_at: Timestamp;
  expires_at: Date;
  approved_at: Date | null;
  nonce: string | null;
  /** The session the code was redeemed for; null = not redeemed. */
  session_id: string | null;
  auth_time: Date | null;
  /** OIDC `prompt` as requested (space-separated). */
  prompt: string | null;
  /** OIDC `max_age`, seconds. */
  max_age: number | null;
  /** How the approving user had signed in: AMR methods (comma-separated) and AAL, for the ID token's amr and acr. */
  auth_methods: string | null;
  auth_aal: string | null;
}

/** OAuth server (issue 15, item 4): a resource server with its own scopes; its tokens' `aud` is `resource`. */
export interface OauthResourcesTable {
  id: string;
  /** The RFC 8707 resource indicator (absolute URI, no fragment); unique. */
  resource: string;
  name: string;
  /** The resource's custom scopes, `[{name, description}]`. */
  scopes: Json<OauthResourceScope[]>;
  /** Seconds; null = the server's JWT expiry. */
  access_token_ttl: number | null;
  /** A JWS alg of GOTRUE_JWT_KEYS; null = the signing key's. */
  signing_alg: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OauthResourceScope {
  name: string;
  description: string;
}

/** OAuth server: what a user granted a client. */
export interface OauthConsentsTable {
  id: string;
  user_id: string;
  client_id: string;
  /** Space-separated. */
  scopes: string;
  granted_at: Timestamp;
  revoked_at: Date | null;
}

export interface OauthClientStatesTable {
  id: string;
  provider_type: string;
  code_verifier: string | null;
  nonce: string | null;
  created_at: Timestamp;
}

export interface CustomOauthProvidersTable {
  id: string;
  identifier: string;
  provider_type: 'oauth2' | 'oidc';
  name: string;
  client_id: string;
  /** Vault-encrypted when GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS is set. */
  client_secret: string;
  acceptable_client_ids: Json<string[]>;
  scopes: Json<string[]>;
  custom_claims_allowlist: Json<string[]>;
  pkce_enabled: boolean;
  attribute_mapping: Json<Record<string, string>>;
  authorization_params: Json<Record<string, string>>;
  enabled: boolean;
  email_optional: boolean;
  issuer: string | null;
  discovery_url: string | null;
  skip_nonce_check: boolean;
  authorization_url: string | null;
  token_url: string | null;
  userinfo_url: string | null;
  jwks_uri: string | null;
  discovery_document: JsonNullable;
  client_auth: 'basic' | 'post' | 'both';
  issues_refresh_tokens: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The provider token vault: ciphertexts only (crypto/token-vault). */
export interface ProviderTokensTable {
  id: string;
  identity_id: string;
  user_id: string;
  provider: string;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  scope: string | null;
  expires_at: TimestampNullable;
  revoked_at: TimestampNullable;
  refreshed_at: TimestampNullable;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Rate-limit counters (GOTRUE_RATE_LIMIT_STORE=postgres); rate-limiter-flexible owns the row format. */
export interface RateLimitsTable {
  key: string;
  points: number;
  /** End of the window, epoch ms (int8: read as a string). */
  expire: ColumnType<string | null, number | null, number | null>;
}

/** The auth schema, table by table (contract §4). */
export interface Database {
  users: UsersTable;
  identities: IdentitiesTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  audit_log_entries: AuditLogEntriesTable;
  flow_state: FlowStateTable;
  one_time_tokens: OneTimeTokensTable;
  mfa_factors: MfaFactorsTable;
  mfa_challenges: MfaChallengesTable;
  mfa_amr_claims: MfaAmrClaimsTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  oauth_client_states: OauthClientStatesTable;
  oauth_clients: OauthClientsTable;
  oauth_authorizations: OauthAuthorizationsTable;
  oauth_consents: OauthConsentsTable;
  oauth_resources: OauthResourcesTable;
  custom_oauth_providers: CustomOauthProvidersTable;
  provider_tokens: ProviderTokensTable;
  rate_limits: RateLimitsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type IdentityRow = Selectable<IdentitiesTable>;
export type SessionRow = Selectable<SessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type FactorRow = Selectable<MfaFactorsTable>;
export type NewFactor = Insertable<MfaFactorsTable>;
export type ChallengeRow = Selectable<MfaChallengesTable>;
export type FlowStateRow = Selectable<FlowStateTable>;
export type OneTimeTokenRow = Selectable<OneTimeTokensTable>;
export type CustomOauthProviderRow = Selectable<CustomOauthProvidersTable>;
export type ProviderTokenRow = Selectable<ProviderTokensTable>;
export type OauthClientRow = Selectable<OauthClientsTable>;
export type OauthAuthorizationRow = Selectable<OauthAuthorizationsTable>;
export type OauthResourceRow = Selectable<OauthResourcesTable>;
