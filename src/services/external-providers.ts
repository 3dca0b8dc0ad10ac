import { BUILTIN_PROVIDERS, type BuiltinProviderName, type CustomProviderConfig } from '../config/providers';
import { findCustomProvider } from '../domain/custom-providers';
import type { CustomOauthProviderRow } from '../db/schema';
import type { Deps } from '../deps';
import type { ExternalProvider } from '../external/types';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

const isBuiltin = (name: string): name is BuiltinProviderName => (BUILTIN_PROVIDERS as readonly string[]).includes(name);

/** The sealing context of a generic provider's client secret. */
export const secretContext = (identifier: string) => `custom_oauth_providers:${identifier}:client_secret`;

/** A database row as the provider settings the external layer uses; the secret is opened from the vault. */
export function customConfigFromRow(deps: Pick<Deps, 'vault'>, row: CustomOauthProviderRow): CustomProviderConfig {
  return {
    identifier: row.identifier,
    name: row.name,
    providerType: row.provider_type,
    enabled: row.enabled,
    clientId: row.client_id,
    clientSecret: deps.vault.openIfSealed(row.client_secret, secretContext(row.identifier)),
    acceptableClientIds: row.acceptable_client_ids,
    redirectUri: undefined,
    issuer: row.issuer ?? undefined,
    discoveryUrl: row.discovery_url ?? undefined,
    authorizationUrl: row.authorization_url ?? undefined,
    tokenUrl: row.token_url ?? undefined,
    userinfoUrl: row.userinfo_url ?? undefined,
    jwksUri: row.jwks_uri ?? undefined,
    scopes: row.scopes,
    clientAuth: row.client_auth,
    pkceEnabled: row.pkce_enabled,
    authorizationParams: row.authorization_params,
    issuesRefreshTokens: row.issues_refresh_tokens,
    attributeMapping: row.attribute_mapping,
    customClaimsAllowlist: row.custom_claims_allowlist,
    emailOptional: row.email_optional,
    skipNonceCheck: row.skip_nonce_check,
  };
}

export const callbackUrl = (deps: Pick<Deps, 'config'>) => `${deps.config.api.externalUrl.replace(/\/+$/, '')}/callback`;

/**
 * The enabled provider of that name: a built-in one, or `custom:<name>` from the environment or the admin API.
 * Unknown → 400 validation_failed and disabled → 400 provider_disabled, with GoTrue's "Unsupported provider".
 */
export async function resolveProvider(deps: Deps, rawName: string): Promise<ExternalProvider> {
  const name = rawName.trim().toLowerCase();
  if (isBuiltin(name)) {
    const cfg = deps.config.external.providers[name];
    if (!cfg.enabled) throw badRequest(ErrorCodes.providerDisabled, 'Unsupported provider: provider is not enabled');
    return deps.external.builtin(name, cfg);
  }
  if (name.startsWith('custom:')) {
    const fromEnv = deps.config.external.custom.find((c) => c.identifier === name);
    const row = fromEnv ? undefined : /^custom:[a-z0-9][a-z0-9_-]{0,49}$/.test(name) ? await findCustomProvider(deps.db, name, false) : undefined;
    const cfg = fromEnv ?? (row ? customConfigFromRow(deps, row) : undefined);
    if (cfg) {
      if (!cfg.enabled) throw badRequest(ErrorCodes.providerDisabled, 'Unsupported provider: provider is not enabled');
      return deps.external.custom(cfg, callbackUrl(deps));
    }
  }
  throw badRequest(ErrorCodes.validationFailed, `Unsupported provider: Provider ${name.slice(0, 60)} could not be found`);
}
