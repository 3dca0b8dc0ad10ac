import { checkCustomProvider } from '../config/custom-providers';
import type { ClientAuthMethod, CustomProviderConfig } from '../config/providers';
import { countCustomProviders, deleteCustomProvider, findCustomProvider, insertCustomProvider, listCustomProviders, updateCustomProvider } from '../domain/custom-providers';
import type { CustomOauthProviderRow } from '../db/schema';
import type { Deps } from '../deps';
import { rethrowUniqueViolation } from '../domain/unique-violation';
import { ApiError, badRequest, notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { callbackUrl, customConfigFromRow, secretContext } from './external-providers';
import { isUuid } from '../domain/identifiers';

/** Generic providers the admin API may hold. */
export const CUSTOM_PROVIDER_QUOTA = 100;

/** The admin API's fields (auth-js CreateCustomProviderParams, plus client_auth and issues_refresh_tokens). */
export interface CustomProviderFields {
  provider_type?: 'oauth2' | 'oidc';
  identifier?: string;
  name?: string;
  client_id?: string;
  client_secret?: string;
  acceptable_client_ids?: string[];
  scopes?: string[];
  custom_claims_allowlist?: string[];
  pkce_enabled?: boolean;
  attribute_mapping?: Record<string, string>;
  authorization_params?: Record<string, string>;
  enabled?: boolean;
  email_optional?: boolean;
  issuer?: string;
  discovery_url?: string;
  skip_nonce_check?: boolean;
  authorization_url?: string;
  token_url?: string;
  userinfo_url?: string;
  jwks_uri?: string;
  client_auth?: ClientAuthMethod;
  issues_refresh_tokens?: boolean;
}

const json = (v: unknown) => JSON.stringify(v);

async function findOrThrow(deps: Deps, idOrIdentifier: string): Promise<CustomOauthProviderRow> {
  const key = idOrIdentifier.toLowerCase();
  const row = isUuid(key) || /^custom:[a-z0-9][a-z0-9_-]{0,49}$/.test(key) ? await findCustomProvider(deps.db, key, isUuid(key)) : undefined;
  if (!row) throw notFound(ErrorCodes.customProviderNotFound, 'Custom provider not found');
  return row;
}

/** Checks a provider's settings and, for OIDC, fetches and validates its discovery document. */
async function validate(deps: Deps, cfg: CustomProviderConfig): Promise<Record<string, unknown> | null> {
  const problems = checkCustomProvider(cfg);
  if (problems.length > 0) throw badRequest(ErrorCodes.validationFailed, problems.join('; '));
  if (cfg.providerType !== 'oidc') return null;
  try {
    const m = await deps.external.protocol(deps.external.custom(cfg, callbackUrl(deps))).oidcMetadata();
    const d = m.document;
    return { issuer: d.issuer, authorization_endpoint: d.authorization_endpoint, token_endpoint: d.token_endpoint, jwks_uri: d.jwks_uri, userinfo_endpoint: d.userinfo_endpoint, revocation_endpoint: d.revocation_endpoint, supported_scopes: d.scopes_supported, supported_response_types: d.response_types_supported, supported_subject_types: d.subject_types_supported, supported_id_token_signing_algs: d.id_token_signing_alg_values_supported };
  } catch (err) {
    throw badRequest(ErrorCodes.validationFailed, 'Unable to fetch or validate the OpenID discovery document', { cause: err });
  }
}

export const listProviders = (deps: Deps, type?: 'oauth2' | 'oidc') => listCustomProviders(deps.db, type);
export const getProvider = (deps: Deps, id: string) => findOrThrow(deps, id);

export async function createProvider(deps: Deps, f: CustomProviderFields): Promise<CustomOauthProviderRow> {
  const identifier = f.identifier!.toLowerCase();
  if (deps.config.external.custom.some((c) => c.identifier === identifier)) throw new ApiError(409, ErrorCodes.conflict, `${identifier} is configured by environment`);
  if ((await countCustomProviders(deps.db)) >= CUSTOM_PROVIDER_QUOTA) throw badRequest(ErrorCodes.overCustomProviderQuota, `At most ${CUSTOM_PROVIDER_QUOTA} custom providers`);
  const now = deps.clock.now();
  const row = rowFrom(deps, identifier, f, undefined);
  const discovery = await validate(deps, customConfigFromRow({ vault: { ...deps.vault, openIfSealed: (v) => v } }, { ...row, client_secret: f.client_secret! } as CustomOauthProviderRow));
  try {
    return await insertCustomProvider(deps.db, { ...toDb(row), id: deps.random.uuid(), discovery_document: discovery ? json(discovery) : null, created_at: now, updated_at: now });
  } catch (err) {
    // A concurrent create of the same identifier.
    rethrowUniqueViolation(err, { custom_oauth_providers_identifier_key: (cause) => new ApiError(409, ErrorCodes.conflict, `A custom provider ${identifier} already exists`, { cause }) });
  }
}

export async function updateProvider(deps: Deps, id: string, f: CustomProviderFields): Promise<CustomOauthProviderRow> {
  const current = await findOrThrow(deps, id);
  const next = rowFrom(deps, current.identifier, f, current);
  const plainSecret = f.client_secret ?? customConfigFromRow(deps, current).clientSecret;
  const discovery = await validate(deps, customConfigFromRow({ vault: { ...deps.vault, openIfSealed: (v) => v } }, { ...current, ...next, client_secret: plainSecret } as CustomOauthProviderRow));
  const updated = await updateCustomProvider(deps.db, current.id, { ...toDb(next), discovery_document: discovery ? json(discovery) : null, updated_at: deps.clock.now() });
  if (!updated) throw notFound(ErrorCodes.customProviderNotFound, 'Custom provider not found');
  return updated;
}

export async function deleteProvider(deps: Deps, id: string): Promise<void> {
  const current = await findOrThrow(deps, id);
  await deleteCustomProvider(deps.db, current.id);
}

/** JSON columns are written as text. */
function toDb(r: ReturnType<typeof rowFrom>) {
  return {
    ...r,
    acceptable_client_ids: json(r.acceptable_client_ids),
    scopes: json(r.scopes),
    custom_claims_allowlist: json(r.custom_claims_allowlist),
    attribute_mapping: json(r.attribute_mapping),
    authorization_params: json(r.authorization_params),
  };
}

/**
 * A client secret is never stored in plaintext: it is sealed by the vault, and without GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS
 * there is no key to seal it with, so the request is refused (400 feature_disabled, naming the setting).
 */
function sealSecret(deps: Deps, identifier: string, secret: string): string {
  if (!deps.vault.enabled) {
    throw badRequest(ErrorCodes.featureDisabled, 'Storing a client secret needs GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS (it is never stored in plaintext): set it to kid:base64key (openssl rand -base64 32)');
  }
  return deps.vault.seal(secret, secretContext(identifier));
}

/** The stored row for these fields over the current row (PUT changes only what it names). */
function rowFrom(deps: Deps, identifier: string, f: CustomProviderFields, cur: CustomOauthProviderRow | undefined) {
  const pick = <T>(v: T | undefined, c: T | undefined, d: T): T => (v !== undefined ? v : c !== undefined ? c : d);
  return {
    identifier,
    provider_type: pick(cur ? undefined : f.provider_type, cur?.provider_type, 'oauth2' as const),
    name: pick(f.name, cur?.name, identifier.slice('custom:'.length)),
    client_id: pick(f.client_id, cur?.client_id, ''),
    client_secret: f.client_secret !== undefined ? sealSecret(deps, identifier, f.client_secret) : (cur?.client_secret ?? ''),
    acceptable_client_ids: pick(f.acceptable_client_ids, cur?.acceptable_client_ids, []),
    scopes: pick(f.scopes, cur?.scopes, []),
    custom_claims_allowlist: pick(f.custom_claims_allowlist, cur?.custom_claims_allowlist, []),
    pkce_enabled: pick(f.pkce_enabled, cur?.pkce_enabled, true),
    attribute_mapping: pick(f.attribute_mapping, cur?.attribute_mapping, {}),
    authorization_params: pick(f.authorization_params, cur?.authorization_params, {}),
    enabled: pick(f.enabled, cur?.enabled, true),
    email_optional: pick(f.email_optional, cur?.email_optional, false),
    issuer: pick(f.issuer, cur?.issuer ?? undefined, null as string | null),
    discovery_url: pick(f.discovery_url, cur?.discovery_url ?? undefined, null as string | null),
    skip_nonce_check: pick(f.skip_nonce_check, cur?.skip_nonce_check, false),
    authorization_url: pick(f.authorization_url, cur?.authorization_url ?? undefined, null as string | null),
    token_url: pick(f.token_url, cur?.token_url ?? undefined, null as string | null),
    userinfo_url: pick(f.userinfo_url, cur?.userinfo_url ?? undefined, null as string | null),
    jwks_uri: pick(f.jwks_uri, cur?.jwks_uri ?? undefined, null as string | null),
    client_auth: pick(f.client_auth, cur?.client_auth, 'basic' as ClientAuthMethod),
    issues_refresh_tokens: pick(f.issues_refresh_tokens, cur?.issues_refresh_tokens, true),
  };
}
