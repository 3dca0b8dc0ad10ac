import type { Deps } from '../../deps';
import { verifyCodeChallenge, hashAuthCode, isValidCodeVerifier } from '../../crypto/pkce';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { allowsGrant, publicClientId, type OauthClient } from '../../domain/oauth-clients';
import { endNamedSession } from '../../domain/backchannel-logout';
import {
  findOauthAuthorizationByCode,
  invalidGrant,
  oauthError,
  oauthIssuer,
  parseScopes,
  redeemOauthAuthorization,
} from '../../domain/oauth-server';
import type { RequestMeta } from '../../domain/request-meta';
import * as sessions from '../../domain/sessions';
import { resolveResource } from '../../domain/oauth-resources';
import { isBanned } from '../../domain/users';

export interface CodeExchange {
  code: string;
  codeVerifier: string | undefined;
  redirectUri: string | undefined;
  resource: string | undefined;
}

export interface OauthTokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

/**
 * grant_type=authorization_code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3), in one transaction:
 * - the code is redeemed with one UPDATE … RETURNING (exactly one concurrent caller wins); the row stays, marked with
 *   the session it started;
 * - a code presented again ends that session — every token the first exchange issued — and the revocation commits
 *   before the caller gets invalid_grant (RFC 6749 §4.1.2);
 * - the code must be this client's, unexpired, for the same redirect_uri and resource when they are sent, and its
 *   PKCE challenge (S256, or plain when allowed) must be answered; a code without a challenge takes no verifier;
 * - the user must not be banned.
 * Any failure after the redemption rolls it back. After commit: the access token through sessions.mintTokens
 * (client_id, scope, aud from the resource), a refresh token only with offline_access or when the client may
 * refresh, and an ID token when openid was granted.
 */
export async function exchangeCode(deps: Deps, meta: RequestMeta, client: OauthClient, x: CodeExchange): Promise<OauthTokenResponse> {
  const codeHash = hashAuthCode(x.code);
  const sessionId = deps.random.uuid();
  const outcome = await deps.db
    .transaction()
    .execute(async (trx) => {
      const a = await redeemOauthAuthorization(trx, codeHash, sessionId);
      if (!a) {
        const used = await findOauthAuthorizationByCode(trx, codeHash);
        if (used?.session_id && used.user_id && used.client_id === client.id) {
          // The session the first exchange started ends; the client hears it by back-channel logout, if registered.
          const ended = await endNamedSession(trx, { sessionId: used.session_id, userId: used.user_id, clientId: client.id });
          return { kind: 'reused' as const, notify: ended.notify };
        }
        throw invalidGrant('Invalid authorization code');
      }
      const now = deps.clock.now();
      if (a.client_id !== client.id) throw invalidGrant('Authorization code was not issued for this client');
      if (a.expires_at <= now) throw invalidGrant('Authorization code has expired');
      if (x.redirectUri !== undefined && x.redirectUri !== a.redirect_uri) throw invalidGrant('Invalid redirect_uri');
      // RFC 8707 §2.2: a resource the grant does not cover is invalid_target (MCP clients send it on both requests).
      if (x.resource !== undefined && x.resource !== (a.resource ?? '')) throw oauthError(400, 'invalid_target', 'Authorization code resource does not match the resource parameter');
      if (a.code_challenge) {
        if (!x.codeVerifier) throw invalidGrant('PKCE verification failed: code_verifier is required');
        if (!isValidCodeVerifier(x.codeVerifier) || !verifyCodeChallenge(x.codeVerifier, a.code_challenge, a.code_challenge_method ?? 's256')) {
          throw invalidGrant('PKCE verification failed: code_verifier does not match the code_challenge');
        }
      } else if (x.codeVerifier) {
        throw invalidGrant('PKCE verification failed: no code_challenge was sent with the authorization request');
      }
      if (!a.user_id) throw invalidGrant('Authorization code has no associated user');
      // Issue 15, item 4: the resource's token policy, read in the transaction; a resource deleted since is gone.
      const resource = a.resource ? await resolveResource(trx, deps.config, a.resource) : undefined;
      if (a.resource && !resource) throw invalidGrant('The resource of this authorization no longer exists');
      const issued = await sessions.issue(trx, deps, {
        user: { id: a.user_id },
        method: 'oauth_provider/authorization_code',
        meta,
        // The session as its tokens are minted: the client_id the client knows itself by, the resource's policy.
        oauthClient: { id: client.id, publicId: publicClientId(client) },
        sessionId,
        scopes: parseScopes(a.scope).join(' '),
        resource: a.resource,
        resourcePolicy: resource,
        lifetimeSeconds: client.refresh_token_ttl,
      });
      if (isBanned(issued.user, now)) throw oauthError(400, 'access_denied', 'User is banned');
      await insertAuditEntries(trx, [auditEntry(deps, meta, issued.user, 'login', { provider_type: 'oauth_provider_authorization_code', client_id: client.id })]);
      return { kind: 'issued' as const, issued, authorization: a };
    });
  if (outcome.kind === 'reused') {
    deps.backchannelLogout.notify(outcome.notify);
    deps.logger.warn({ client_id: client.id }, 'authorization code reused; the tokens it issued are revoked');
    throw invalidGrant('Authorization code has already been used');
  }
  const { issued, authorization } = outcome;
  const scopes = parseScopes(authorization.scope);
  const tokens = await sessions.mintTokens(deps, { ...issued, expiresIn: client.access_token_ttl });
  const idToken = scopes.includes('openid')
    ? await sessions.mintIdToken(deps, {
        issuer: oauthIssuer(deps.config),
        // OIDC Core §2: aud is the client_id the client knows itself by (a metadata document's URL, issue 15).
        clientId: publicClientId(client),
        user: issued.user,
        scopes,
        authTime: authorization.auth_time ?? authorization.approved_at ?? deps.clock.now(),
        nonce: authorization.nonce,
        amr: authorization.auth_methods ? authorization.auth_methods.split(',') : issued.amr.map((e) => e.method),
        aal: authorization.auth_aal ?? issued.session.aal,
        accessToken: tokens.accessToken,
        sessionId: issued.session.id,
      })
    : undefined;
  return tokenResponse(tokens.accessToken, tokens.expiresIn, scopes, refreshAllowed(client, scopes) ? tokens.refreshToken : undefined, idToken);
}

/** A refresh token goes out when the client may use the refresh_token grant and offline_access was granted. */
export const refreshAllowed = (client: OauthClient, scopes: string[]) => allowsGrant(client, 'refresh_token') && scopes.includes('offline_access');

export function tokenResponse(accessToken: string, expiresIn: number, scopes: string[], refreshToken?: string, idToken?: string): OauthTokenResponse {
  return {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: expiresIn,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(idToken ? { id_token: idToken } : {}),
    scope: scopes.join(' '),
  };
}
