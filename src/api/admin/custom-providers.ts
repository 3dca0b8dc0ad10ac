import { z } from 'zod';
import type { CustomOauthProviderRow } from '../../db/schema';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { optBool, queryString, safeString } from '../../http/fields';
import { createProvider, deleteProvider, getProvider, listProviders, updateProvider } from '../../services/custom-providers';

const url = () =>
  safeString(2048)
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'expected an absolute http(s) URL')
    .nullish()
    .transform((v) => v ?? undefined);
const strings = (max: number) => z.array(safeString(256).min(1)).max(max).nullish().transform((v) => v ?? undefined);
const record = () =>
  z
    .record(safeString(128).min(1), safeString(1024))
    .refine((r) => Object.keys(r).length <= 50, 'at most 50 entries')
    .nullish()
    .transform((v) => v ?? undefined);
const flag = optBool;
const text = (max: number) => safeString(max).min(1).nullish().transform((v) => v ?? undefined);

const Common = {
  name: text(100),
  client_id: text(512),
  client_secret: text(4096),
  acceptable_client_ids: strings(20),
  scopes: strings(50),
  custom_claims_allowlist: strings(50),
  pkce_enabled: flag(),
  attribute_mapping: record(),
  authorization_params: record(),
  enabled: flag(),
  email_optional: flag(),
  issuer: url(),
  discovery_url: url(),
  skip_nonce_check: flag(),
  authorization_url: url(),
  token_url: url(),
  userinfo_url: url(),
  jwks_uri: url(),
  client_auth: z.enum(['basic', 'post', 'both']).nullish().transform((v) => v ?? undefined),
  issues_refresh_tokens: flag(),
};
const CreateBody = z.object({
  provider_type: z.enum(['oauth2', 'oidc']),
  identifier: z.string().regex(/^custom:[a-z0-9][a-z0-9_-]{0,49}$/, 'identifier must be custom:<name> (a-z, 0-9, _ and -)'),
  ...Common,
  name: safeString(100).min(1),
  client_id: safeString(512).min(1),
  client_secret: safeString(4096).min(1),
});
const UpdateBody = z.object({ ...Common });

/** The admin API's provider object (auth-js CustomOAuthProvider); the client secret is never returned. */
export function customProviderJson(r: CustomOauthProviderRow) {
  return {
    id: r.id,
    provider_type: r.provider_type,
    identifier: r.identifier,
    name: r.name,
    client_id: r.client_id,
    acceptable_client_ids: r.acceptable_client_ids,
    scopes: r.scopes,
    custom_claims_allowlist: r.custom_claims_allowlist,
    pkce_enabled: r.pkce_enabled,
    attribute_mapping: r.attribute_mapping,
    authorization_params: r.authorization_params,
    enabled: r.enabled,
    email_optional: r.email_optional,
    issuer: r.issuer ?? undefined,
    discovery_url: r.discovery_url ?? undefined,
    skip_nonce_check: r.skip_nonce_check,
    authorization_url: r.authorization_url ?? undefined,
    token_url: r.token_url ?? undefined,
    userinfo_url: r.userinfo_url ?? undefined,
    jwks_uri: r.jwks_uri ?? undefined,
    discovery_document: r.discovery_document,
    client_auth: r.client_auth,
    issues_refresh_tokens: r.issues_refresh_tokens,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

const ListQuery = z.object({ type: queryString() });

/** GET /admin/custom-providers?type=oauth2|oidc → {providers} */
export const listCustomProviders = endpoint({ auth: 'admin', query: ListQuery }, async ({ query }, deps) => {
  const { type } = query;
  if (type !== '' && type !== 'oauth2' && type !== 'oidc') throw badRequest(ErrorCodes.validationFailed, 'type must be oauth2 or oidc');
  const rows = await listProviders(deps, type === '' ? undefined : type);
  return { providers: rows.map(customProviderJson) };
});

/** POST /admin/custom-providers → 201 provider */
export const createCustomProvider = endpoint({ auth: 'admin', body: CreateBody }, async ({ body, res }, deps) => {
  const row = await createProvider(deps, body);
  res.status(201);
  return customProviderJson(row);
});

/** GET /admin/custom-providers/{id | identifier} */
export const getCustomProvider = endpoint({ auth: 'admin' }, async ({ params }, deps) => customProviderJson(await getProvider(deps, params.id ?? '')));

/** PUT /admin/custom-providers/{id | identifier}: only the fields sent change; type and identifier never do. */
export const updateCustomProvider = endpoint({ auth: 'admin', body: UpdateBody }, async ({ params, body }, deps) =>
  customProviderJson(await updateProvider(deps, params.id ?? '', body)),
);

/** DELETE /admin/custom-providers/{id | identifier} → 204 */
export const deleteCustomProvider = endpoint({ auth: 'admin' }, async ({ params, res }, deps) => {
  await deleteProvider(deps, params.id ?? '');
  res.status(204).end();
});
