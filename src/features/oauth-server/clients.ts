import { z } from 'zod';
import { PageQuery, pageWindow, parsePagination, setPaginationHeaders } from '../../api/admin/pagination';
import { deleteClient, getClient, publicClientId, listClients, regenerateSecret, registerClient, splitList, updateClient, type ClientInput, type OauthClient } from '../../domain/oauth-clients';
import { forbidden } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';

/** Thin handlers for OAuth client registration: GoTrue's admin routes and RFC 7591 dynamic registration. */

const text = (max: number) => z.string().max(max).nullish().transform((v) => v ?? undefined);
const ttl = z.number().int().nullish();
const ClientBody = z.object({
  redirect_uris: z.array(z.string().max(2048)).max(10).nullish().transform((v) => v ?? undefined),
  client_type: text(32),
  token_endpoint_auth_method: text(64),
  grant_types: z.array(z.string().max(64)).max(5).nullish().transform((v) => v ?? undefined),
  // RFC 7591 metadata this server does not use is accepted and ignored (response_types, scope, contacts, …).
  response_types: z.array(z.string().max(64)).max(5).nullish(),
  client_name: text(1024),
  client_uri: text(2048),
  logo_uri: text(2048),
  access_token_ttl: ttl,
  refresh_token_ttl: ttl,
  // Issue 15: MFA per client, RP-initiated and back-channel logout.
  require_mfa: z.boolean().nullish().transform((v) => v ?? undefined),
  post_logout_redirect_uris: z.array(z.string().max(2048)).max(10).nullish().transform((v) => v ?? undefined),
  backchannel_logout_uri: text(2048),
  default_max_age: z.number().int().nullish(),
});
const ClientPath = z.object({ client_id: z.string().max(64) });

/** GoTrue's OAuthServerClientResponse; `client_secret` only when one was just made. */
export function clientJson(c: OauthClient, secret?: string) {
  return {
    client_id: publicClientId(c),
    ...(secret ? { client_secret: secret } : {}),
    client_type: c.client_type,
    redirect_uris: splitList(c.redirect_uris),
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    grant_types: splitList(c.grant_types),
    response_types: ['code'],
    ...(c.client_name ? { client_name: c.client_name } : {}),
    ...(c.client_uri ? { client_uri: c.client_uri } : {}),
    ...(c.logo_uri ? { logo_uri: c.logo_uri } : {}),
    ...(c.access_token_ttl ? { access_token_ttl: c.access_token_ttl } : {}),
    ...(c.refresh_token_ttl ? { refresh_token_ttl: c.refresh_token_ttl } : {}),
    require_mfa: c.require_mfa,
    ...(c.post_logout_redirect_uris ? { post_logout_redirect_uris: splitList(c.post_logout_redirect_uris) } : {}),
    ...(c.backchannel_logout_uri ? { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    ...(c.default_max_age !== null ? { default_max_age: c.default_max_age } : {}),
    registration_type: c.registration_type,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

const input = (b: z.output<typeof ClientBody>): ClientInput => b;

/** POST /admin/oauth/clients → 201 the client, with its secret (shown once) */
export const adminCreateClient = endpoint({ auth: 'admin', body: ClientBody }, async ({ body, res }, deps) => {
  const { client, secret } = await registerClient(deps, input(body), 'manual');
  res.status(201);
  return clientJson(client, secret);
});

/** POST /oauth/clients/register (RFC 7591) → 201, when GOTRUE_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION is on */
export const dynamicRegisterClient = endpoint({ auth: 'none', body: ClientBody }, async ({ body, res }, deps) => {
  if (!deps.config.oauthServer.allowDynamicRegistration) {
    throw forbidden(ErrorCodes.oauthDynamicClientRegistrationDisabled, 'Dynamic client registration is not enabled');
  }
  // Per-client lifetimes are an administrator's decision, not the registering party's.
  const { client, secret } = await registerClient(deps, { ...input(body), access_token_ttl: undefined, refresh_token_ttl: undefined }, 'dynamic');
  res.status(201);
  return clientJson(client, secret);
});

/** GET /admin/oauth/clients?page=&per_page= → {clients}, with GoTrue's pagination headers */
export const adminListClients = endpoint({ auth: 'admin', query: z.object(PageQuery) }, async ({ query, url, res }, deps) => {
  const page = parsePagination(query);
  const { rows, total } = await listClients(deps, pageWindow(page));
  setPaginationHeaders(url, res, page, total);
  return { clients: rows.map((c) => clientJson(c)) };
});

/** GET /admin/oauth/clients/{client_id} */
export const adminGetClient = endpoint({ auth: 'admin', params: ClientPath }, async ({ params }, deps) => clientJson(await getClient(deps, params.client_id)));

/** PUT /admin/oauth/clients/{client_id} */
export const adminUpdateClient = endpoint({ auth: 'admin', params: ClientPath, body: ClientBody }, async ({ params, body }, deps) =>
  clientJson(await updateClient(deps, params.client_id, input(body))),
);

/** DELETE /admin/oauth/clients/{client_id} → 204; its sessions, pending authorizations and grants end */
export const adminDeleteClient = endpoint({ auth: 'admin', params: ClientPath }, async ({ params, res }, deps) => {
  await deleteClient(deps, params.client_id);
  res.status(204).end();
  return undefined;
});

/** POST /admin/oauth/clients/{client_id}/regenerate_secret → the client with its new secret */
export const adminRegenerateSecret = endpoint({ auth: 'admin', params: ClientPath }, async ({ params }, deps) => {
  const { client, secret } = await regenerateSecret(deps, params.client_id);
  return clientJson(client, secret);
});
