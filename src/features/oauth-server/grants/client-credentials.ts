import * as sessions from '../../../domain/sessions';
import { oauthError, parseScopes } from '../../../domain/oauth-server';
import { checkResource } from '../resources';
import { OPENID_SCOPES } from '../../../domain/oauth-resources';
import { tokenResponse } from '../code-grant';
import { oauthString } from '../params';
import type { OauthGrant } from './index';

/** Scopes a client acting for itself may hold: none of them names a user's data. */
const CLIENT_SCOPES: readonly string[] = [];

/**
 * grant_type=client_credentials {scope?, resource?} (RFC 6749 §4.4): a confidential client acting for itself; the
 * token's `sub` is the client, no refresh token. User scopes (openid, email, …) are refused: there is no user.
 */
export const clientCredentials: OauthGrant = async ({ body, client }, deps) => {
  if (client.client_type !== 'confidential') throw oauthError(400, 'unauthorized_client', 'client_credentials needs a confidential client');
  const scopes = parseScopes(oauthString(body, 'scope', 4096) ?? '');
  const foreign = scopes.find((s) => OPENID_SCOPES.includes(s));
  if (foreign) throw oauthError(400, 'invalid_scope', `scope ${foreign} needs a user; client_credentials grants none`);
  // Issue 15, item 4: a resource's own scopes may be asked for with its `resource`.
  const resource = await checkResource(deps, oauthString(body, 'resource', 2048), scopes, CLIENT_SCOPES);
  const t = await sessions.mintClientToken(deps, {
    clientId: client.id,
    scope: scopes.join(' '),
    resource: resource ? { uri: resource.resource, policy: resource } : null,
    expiresIn: client.access_token_ttl,
  });
  return tokenResponse(t.accessToken, t.expiresIn, scopes);
};
