import { ApiError } from '../../../errors/api-error';
import { invalidGrant, oauthError, parseScopes } from '../../../domain/oauth-server';
import { refreshGrant } from '../../../services/refresh-grant';
import { publicClientId } from '../../../domain/oauth-clients';
import { tokenResponse } from '../code-grant';
import { oauthString } from '../params';
import type { OauthGrant } from './index';

/**
 * grant_type=refresh_token {refresh_token, scope?}: the house refresh grant (rotation on every use under the session
 * lock; a replay after the reuse interval revokes the family), bound to the client the session was issued to. Its
 * GoTrue errors become RFC 6749 invalid_grant. `scope` (RFC 6749 §6) may narrow the new access token's scope, never
 * widen it (invalid_scope, refused under the lock before the token rotates); the grant itself keeps its scope, so a
 * later refresh without `scope` gets all of it back. A session bound to a resource stays bound: `resource`, when
 * sent, must name it (else invalid_target).
 */
export const refreshToken: OauthGrant = async ({ body, client, meta }, deps) => {
  const token = oauthString(body, 'refresh_token', 512);
  if (!token) throw oauthError(400, 'invalid_request', 'refresh_token is required');
  const asked = oauthString(body, 'scope', 4096);
  const scopeFor = (granted: string | null): string | null => {
    if (asked === undefined) return granted;
    const grantedScopes = parseScopes(granted ?? '');
    const askedScopes = parseScopes(asked);
    if (askedScopes.length === 0) return granted;
    if (askedScopes.some((s) => !grantedScopes.includes(s))) throw oauthError(400, 'invalid_scope', 'scope exceeds the grant');
    return grantedScopes.filter((s) => askedScopes.includes(s)).join(' ');
  };
  // RFC 8707 §2.2: a refresh keeps the token's resource; a `resource` sent must be that one (issue 15, item 4).
  const resource = oauthString(body, 'resource', 2048);
  const resourceFor = (bound: string | null): void => {
    if (resource !== undefined && resource !== '' && resource !== bound) throw oauthError(400, 'invalid_target', 'resource must be the one the refresh token was issued for');
  };
  let result;
  try {
    result = await refreshGrant(deps, meta, token, { oauthClient: { id: client.id, accessTokenTtl: client.access_token_ttl, publicId: publicClientId(client) }, scopeFor, resourceFor });
  } catch (err) {
    if (err instanceof ApiError && err.status === 400 && !err.oauth) throw invalidGrant(err.message);
    if (err instanceof ApiError && err.status === 403) throw invalidGrant('User is banned');
    throw err;
  }
  return tokenResponse(result.tokens.accessToken, result.tokens.expiresIn, parseScopes(result.session.scopes ?? ''), result.tokens.refreshToken);
};
