import type { RequestHandler } from 'express';
import type { Deps } from '../../deps';
import { authenticateUser, bearerToken, isResourceAccessToken, verifyAccessToken } from '../../domain/authenticate';
import { isUuid } from '../../domain/identifiers';
import { endNamedSession } from '../../domain/backchannel-logout';
import { findOauthSession, findSessionByRefreshSelector, oauthError, oauthIssuer, parseScopes, SUPPORTED_SCOPES } from '../../domain/oauth-server';
import { scopeClaims } from '../../domain/sessions';
import type { JwtClaims } from '../../crypto/jwt';
import { ApiError, notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { clientOf } from './grants/index';
import { publicClientId } from '../../domain/oauth-clients';
import { resourceScopeNames } from '../../domain/oauth-resources';
import { oauthBody, oauthString } from './params';

/** Userinfo, revocation, introspection and discovery: the OAuth server's protocol endpoints besides /oauth/token. */

/** Every OAuth server route answers 404 while GOTRUE_OAUTH_SERVER_ENABLED is off (GoTrue's requireOAuthServerEnabled). */
export const requireOauthServer =
  (deps: Pick<Deps, 'config'>): RequestHandler =>
  (_req, _res, next) => {
    if (deps.config.oauthServer.enabled) next();
    else next(notFound(ErrorCodes.oauthServerDisabled, 'OAuth server is disabled'));
  };

const invalidToken = (message: string) => oauthError(401, 'invalid_token', message, ErrorCodes.badJwt);

/**
 * GET|POST /oauth/userinfo (OIDC Core §5.3) with the access token as Bearer: `sub`, and the claims of the scopes
 * the token's session was granted only (a session that is not an OAuth client's gets `sub` alone, as GoTrue).
 * A missing, invalid or expired token, or one whose session ended, is 401 invalid_token (RFC 6750).
 */
export const oauthUserinfo = endpoint({ auth: 'none' }, async ({ req }, deps) => {
  let caller;
  try {
    caller = await authenticateUser(deps, req.header('authorization'), { resourceTokens: 'allow' });
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw invalidToken(err.message);
    throw err;
  }
  const session = caller.sessionId ? await findOauthSession(deps.db, caller.sessionId) : undefined;
  let scopes = parseScopes(session?.scopes ?? '');
  // A resource server's token (issue 15, item 4) reads userinfo only when openid was granted, and only its own scopes.
  if (isResourceAccessToken(bearerToken(req.header('authorization')))) {
    const own = parseScopes(typeof caller.claims['scope'] === 'string' ? caller.claims['scope'] : '');
    if (!own.includes('openid')) throw oauthError(403, 'insufficient_scope', 'userinfo needs the openid scope', ErrorCodes.oauthResourceTokenNotAllowed);
    scopes = scopes.filter((s) => own.includes(s));
  }
  return { sub: caller.user.id, ...scopeClaims(caller.user, scopes) };
});

type TokenFacts =
  | { kind: 'refresh'; sessionId: string; clientId: string | null; userId: string; scopes: string; live: boolean; resource: string | null }
  | { kind: 'access'; claims: JwtClaims; live: boolean };

/** What a presented token is: one of our refresh tokens, else one of our access tokens, else nothing. */
async function identify(deps: Deps, token: string, hint: string | undefined): Promise<TokenFacts | undefined> {
  const asRefresh = async (): Promise<TokenFacts | undefined> => {
    const selector = deps.refreshTokens.selectorOf(token);
    const s = selector ? await findSessionByRefreshSelector(deps.db, selector) : undefined;
    if (!s) return undefined;
    const live = !s.revoked && !(s.not_after && s.not_after <= deps.clock.now());
    return { kind: 'refresh', sessionId: s.session_id, clientId: s.oauth_client_id, userId: s.user_id, scopes: s.scopes ?? '', live, resource: s.oauth_resource };
  };
  const asAccess = async (): Promise<TokenFacts | undefined> => {
    if (token.split('.').length !== 3) return undefined;
    let claims: JwtClaims;
    try {
      claims = await verifyAccessToken(deps, token);
    } catch {
      return undefined;
    }
    const sid = claims['session_id'];
    const live = typeof sid === 'string' && isUuid(sid) ? (await findOauthSession(deps.db, sid)) !== undefined : sid === undefined;
    return { kind: 'access', claims, live };
  };
  const order = hint === 'access_token' ? [asAccess, asRefresh] : [asRefresh, asAccess];
  for (const f of order) {
    const facts = await f();
    if (facts) return facts;
  }
  return undefined;
}

/**
 * POST /oauth/revoke (RFC 7009), client-authenticated: a refresh token, or an access token, of this client ends its
 * session (every token of that grant). Unknown tokens and other clients' tokens are answered 200 too (§2.2), and
 * left alone.
 */
export const oauthRevoke = endpoint({ auth: 'none' }, async ({ body: raw, req, res }, deps) => {
  const body = oauthBody(raw);
  const client = await clientOf(deps, req.header('authorization'), body);
  const token = oauthString(body, 'token', 16_384);
  if (!token) throw oauthError(400, 'invalid_request', 'token is required');
  const facts = await identify(deps, token, oauthString(body, 'token_type_hint', 32));
  const sid = facts?.kind === 'refresh' ? facts.sessionId : facts?.kind === 'access' ? facts.claims['session_id'] : undefined;
  const sub = facts?.kind === 'refresh' ? facts.userId : facts?.kind === 'access' ? facts.claims.sub : undefined;
  // A refresh token's session names the client's row id; an access token's client_id claim its public id (issue 15).
  const owner = facts?.kind === 'refresh' ? facts.clientId : facts?.kind === 'access' ? facts.claims['client_id'] : undefined;
  if ((facts?.kind === 'refresh' ? owner === client.id : owner === publicClientId(client)) && typeof sid === 'string' && isUuid(sid) && typeof sub === 'string' && isUuid(sub)) {
    // The session ends (every token of the grant); back-channel clients hear of it after commit (issue 15).
    const ended = await deps.db.transaction().execute((trx) => endNamedSession(trx, { sessionId: sid, userId: sub, clientId: client.id }));
    deps.backchannelLogout.notify(ended.notify);
  }
  res.status(200).end();
  return undefined;
});

/**
 * POST /oauth/introspect (RFC 7662), client-authenticated (resource servers register as confidential clients):
 * an access token of this server is active while it verifies and its session lives; a public client learns only
 * about its own tokens, and a refresh token is shown only to the client it was issued to. Anything else is
 * `{active: false}` and nothing more.
 */
export const oauthIntrospect = endpoint({ auth: 'none' }, async ({ body: raw, req }, deps) => {
  const body = oauthBody(raw);
  const client = await clientOf(deps, req.header('authorization'), body);
  const token = oauthString(body, 'token', 16_384);
  if (!token) throw oauthError(400, 'invalid_request', 'token is required');
  const facts = await identify(deps, token, oauthString(body, 'token_type_hint', 32));
  if (!facts || !facts.live) return { active: false };
  if (facts.kind === 'refresh') {
    if (facts.clientId !== client.id) return { active: false };
    return { active: true, token_type: 'refresh_token', client_id: publicClientId(client), sub: facts.userId, scope: facts.scopes, iss: oauthIssuer(deps.config), ...(facts.resource ? { aud: facts.resource } : {}) };
  }
  const c = facts.claims;
  // A public client authenticates with its id alone: it may learn about its own tokens, not about anyone's.
  if (client.client_type !== 'confidential' && c['client_id'] !== publicClientId(client)) return { active: false };
  return {
    active: true,
    token_type: 'access_token',
    ...(typeof c['scope'] === 'string' ? { scope: c['scope'] } : {}),
    ...(typeof c['client_id'] === 'string' ? { client_id: c['client_id'] } : {}),
    ...(typeof c['email'] === 'string' && c['email'] !== '' ? { username: c['email'] } : {}),
    sub: c.sub,
    aud: c['aud'],
    iss: c['iss'] ?? oauthIssuer(deps.config),
    exp: c['exp'],
    iat: c['iat'],
    ...(typeof c['session_id'] === 'string' ? { sid: c['session_id'] } : {}),
  };
});

/**
 * The OAuth server's half of the discovery document at request time: oauthMetadata, its scopes_supported followed by
 * the scopes of the registered resources (admin /admin/oauth/resources; each name once), which change at run time.
 */
export function oauthDiscovery(deps: Pick<Deps, 'config' | 'signer' | 'db'>): () => Promise<Record<string, unknown>> {
  const fixed = oauthMetadata(deps);
  return async () => ({ ...fixed, scopes_supported: [...new Set([...SUPPORTED_SCOPES, ...(await resourceScopeNames(deps))])] });
}

/**
 * The OAuth server's half of the discovery document (OpenID Connect Discovery 1.0, RFC 8414), every value one the
 * server implements: merged over the base document by /.well-known/openid-configuration and served alone-with-it
 * at /.well-known/oauth-authorization-server.
 */
export function oauthMetadata(deps: Pick<Deps, 'config' | 'signer'>): Record<string, unknown> {
  const base = deps.config.api.externalUrl.replace(/\/+$/, '');
  const o = deps.config.oauthServer;
  const clientAuth = ['client_secret_basic', 'client_secret_post', 'none'];
  return {
    issuer: oauthIssuer(deps.config),
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    userinfo_endpoint: `${base}/oauth/userinfo`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    ...(o.allowDynamicRegistration ? { registration_endpoint: `${base}/oauth/clients/register` } : {}),
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    // Issue 15: RP-initiated and back-channel logout (the ID token carries `sid`).
    end_session_endpoint: `${base}/oauth/logout`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    // ID tokens are signed by the signing key of GOTRUE_JWT_KEYS (asymmetric: the config refuses otherwise).
    id_token_signing_alg_values_supported: deps.signer.algorithms.slice(0, 1),
    token_endpoint_auth_methods_supported: clientAuth,
    revocation_endpoint_auth_methods_supported: clientAuth,
    introspection_endpoint_auth_methods_supported: clientAuth,
    code_challenge_methods_supported: o.allowPlainPkce ? ['S256', 'plain'] : ['S256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'amr', 'acr', 'azp', 'at_hash', 'sid', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'name', 'picture', 'preferred_username', 'updated_at'],
    prompt_values_supported: ['login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
    // Issue 15 (MCP): an https client_id with a path is read as its Client ID Metadata Document.
    ...(o.cimd.enabled ? { client_id_metadata_document_supported: true } : {}),
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}
