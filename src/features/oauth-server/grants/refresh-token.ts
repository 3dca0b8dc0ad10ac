import { ApiError } from '../../../errors/api-error';
import { invalidGrant, oauthError, parseScopes } from '../../../domain/oauth-server';
import { refreshGrant } from '../../../services/refresh-grant';
import { tokenResponse } from '../code-grant';
import { oauthString } from '../params';
import type { OauthGrant } from './index';

/**
 * grant_type=refresh_token {refresh_token, scope?}: the house refresh grant (rotation on every use under the session
 * lock; a replay after the reuse interval revokes the family), bound to the client the session was issued to. Its
 * GoTrue errors become RFC 6749 invalid_grant. A narrower `scope` than granted is refused rather than silently
 * widened (RFC 6749 §6: it may not exceed the grant; narrowing is not supported).
 */
export const refreshToken: OauthGrant = async ({ body, client, meta }, deps) => {
  const token = oauthString(body, 'refresh_token', 512);
  if (!token) throw oauthError(400, 'invalid_request', 'refresh_token is required');
  let result;
  try {
    result = await refreshGrant(deps, meta, token, { oauthClient: { id: client.id, accessTokenTtl: client.access_token_ttl } });
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) throw invalidGrant(err.message);
    if (err instanceof ApiError && err.status === 403) throw invalidGrant('User is banned');
    throw err;
  }
  const scopes = parseScopes(result.session.scopes ?? '');
  const asked = oauthString(body, 'scope', 4096);
  if (asked !== undefined && parseScopes(asked).some((s) => !scopes.includes(s))) throw oauthError(400, 'invalid_scope', 'scope exceeds the grant');
  return tokenResponse(result.tokens.accessToken, result.tokens.expiresIn, scopes, result.tokens.refreshToken);
};
