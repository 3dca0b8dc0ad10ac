import type { Migration } from 'kysely';
import * as createAuthSchema from './20261122120000_create_auth_schema';
import * as oneTimeTokenAttempts from './20261123100000_one_time_token_attempts';
import * as externalProviders from './20261123120000_external_providers';
import * as rateLimits from './20261130120000_rate_limits';
import * as mfaTotpReplay from './20261130160000_mfa_totp_replay';
import * as mfaRecoveryCodes from './20261130180000_mfa_recovery_codes';
import * as oauthServer from './20261130190000_oauth_server';
import * as oauthAuthorizationContext from './20261130190100_oauth_authorization_context';
import * as userListingIndex from './20261130230000_user_listing_index';
import * as oauthClientMfaLogout from './20261201020000_oauth_client_mfa_logout';
import * as oauthClientDefaultMaxAge from './20261201020100_oauth_client_default_max_age';
import * as oauthClientMetadataDocuments from './20261201040000_oauth_client_metadata_documents';
import * as oauthResources from './20261201050000_oauth_resources';

/**
 * Every migration, by name, in order. A static list (not a folder scan) so the same code runs under tsx, a
 * bundler or a compiled build. Migrations never import src/.
 */
export const migrations: Record<string, Migration> = {
  '20261122120000_create_auth_schema': createAuthSchema,
  '20261123100000_one_time_token_attempts': oneTimeTokenAttempts,
  '20261123120000_external_providers': externalProviders,
  '20261130120000_rate_limits': rateLimits,
  '20261130160000_mfa_totp_replay': mfaTotpReplay,
  '20261130180000_mfa_recovery_codes': mfaRecoveryCodes,
  '20261130190000_oauth_server': oauthServer,
  '20261130190100_oauth_authorization_context': oauthAuthorizationContext,
  '20261130230000_user_listing_index': userListingIndex,
  '20261201020000_oauth_client_mfa_logout': oauthClientMfaLogout,
  '20261201020100_oauth_client_default_max_age': oauthClientDefaultMaxAge,
  '20261201040000_oauth_client_metadata_documents': oauthClientMetadataDocuments,
  '20261201050000_oauth_resources': oauthResources,
};
