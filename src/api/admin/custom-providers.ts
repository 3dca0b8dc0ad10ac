import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { CustomOauthProviderRow } from '../../db/schema';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { parseBody } from '../../http/parse';
import { createProvider, deleteProvider, getProvider, listProviders, updateProvider } from '../../services/custom-providers';

const url = () =>
  z
    .string()
    .max(2048)
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'expected an absolute http(s) URL')
    .nullish()
    .transform((v) => v ?? undefined);
const strings = (max: number) => z.array(z.string().min(1).max(256)).max(max).nullish().transform((v) => v ?? undefined);
const record = () =>
  z
    .record(z.string().min(1).max(128), z.string().max(1024))
    .refine((r) => Object.keys(r).length <= 50, 'at most 50 entries')
    .nullish()
    .transform((v) => v ?? undefined);
const flag = () => z.boolean().nullish().transform((v) => v ?? undefined);

const Common = {
  name: z.string().min(1).max(100).nullish().transform((v) => v ?? undefined),
  client_id: z.string().min(1).max(512).nullish().transform((v) => v ?? undefined),
  client_secret: z.string().min(1).max(4096).nullish().transform((v) => v ?? undefined),
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
  name: z.string().min(1).max(100),
  client_id: z.string().min(1).max(512),
  client_secret: z.string().min(1).max(4096),
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

/** GET /admin/custom-providers?type=oauth2|oidc → {providers} */
export const listCustomProviders = (deps: Deps): RequestHandler => async (req, res) => {
  const type = req.query.type;
  if (type !== undefined && type !== '' && type !== 'oauth2' && type !== 'oidc') throw badRequest(ErrorCodes.validationFailed, 'type must be oauth2 or oidc');
  const rows = await listProviders(deps, type === 'oauth2' || type === 'oidc' ? type : undefined);
  res.json({ providers: rows.map(customProviderJson) });
};

/** POST /admin/custom-providers → 201 provider */
export const createCustomProvider = (deps: Deps): RequestHandler => async (req, res) => {
  const row = await createProvider(deps, parseBody(req, CreateBody));
  res.status(201).json(customProviderJson(row));
};

/** GET /admin/custom-providers/{id | identifier} */
export const getCustomProvider = (deps: Deps): RequestHandler => async (req, res) => {
  res.json(customProviderJson(await getProvider(deps, String(req.params.id))));
};

/** PUT /admin/custom-providers/{id | identifier}: only the fields sent change; type and identifier never do. */
export const updateCustomProvider = (deps: Deps): RequestHandler => async (req, res) => {
  res.json(customProviderJson(await updateProvider(deps, String(req.params.id), parseBody(req, UpdateBody))));
};

/** DELETE /admin/custom-providers/{id | identifier} → 204 */
export const deleteCustomProvider = (deps: Deps): RequestHandler => async (req, res) => {
  await deleteProvider(deps, String(req.params.id));
  res.status(204).end();
};
