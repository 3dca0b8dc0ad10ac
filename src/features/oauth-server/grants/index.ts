import type { Deps } from '../../../deps';
import { allowsGrant, authenticateClient, type OauthClient } from '../../../domain/oauth-clients';
import { oauthError } from '../../../domain/oauth-server';
import type { RequestMeta } from '../../../domain/request-meta';
import { endpoint } from '../../../http/endpoint';
import { oauthBody, oauthString } from '../params';
import { authorizationCode } from './authorization-code';
import { clientCredentials } from './client-credentials';
import { refreshToken } from './refresh-token';

/** What a grant module gets: the form (or JSON) body, the authenticated client, the request meta. */
export interface OauthGrantContext {
  body: Record<string, unknown>;
  client: OauthClient;
  meta: RequestMeta;
}
export type OauthGrant = (ctx: OauthGrantContext, deps: Deps) => Promise<unknown>;

/** One module per grant, as node-oidc-provider does (and /token's table). */
const GRANTS: Record<string, OauthGrant> = {
  authorization_code: authorizationCode,
  refresh_token: refreshToken,
  client_credentials: clientCredentials,
};

/** The client a request authenticates as (Basic header, or client_id/client_secret in the body). */
export const clientOf = (deps: Deps, authorization: string | undefined, body: Record<string, unknown>) =>
  authenticateClient(deps, { authorization, clientId: oauthString(body, 'client_id', 2048), clientSecret: oauthString(body, 'client_secret', 512) });

/** POST /oauth/token: authenticate the client, check it may use the grant, run the grant's module. */
export const oauthToken = endpoint({ auth: 'none' }, async ({ body: raw, req, meta }, deps) => {
  const body = oauthBody(raw);
  const grantType = oauthString(body, 'grant_type', 64);
  if (!grantType) throw oauthError(400, 'invalid_request', 'grant_type is required');
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
  const client = await clientOf(deps, req.header('authorization'), body);
  if (!grant) throw oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType.slice(0, 64)}`);
  if (!allowsGrant(client, grantType)) throw oauthError(400, 'unauthorized_client', `Client is not allowed to use grant type: ${grantType}`);
  return grant({ body, client, meta }, deps);
});
