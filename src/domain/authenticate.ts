import { createHash, timingSafeEqual } from 'node:crypto';
import { headerOf, JwtError, type JwtClaims } from '../crypto/jwt';
import { findUserWithRelations, type UserWithRelations } from '../db/repositories/users';
import type { Deps } from '../deps';
import { forbidden, unauthorized } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { isUuid } from './identifiers';
import { assertNotBanned } from './users';

/** A caller at the "user" level: a valid JWT whose user exists and whose session (if named) still exists. */
export interface AuthenticatedUser {
  claims: JwtClaims;
  user: UserWithRelations;
  sessionId: string | undefined;
}

/** Reads the Bearer token of an Authorization header, or throws 401 no_authorization. */
export function bearerToken(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) throw unauthorized(ErrorCodes.noAuthorization, 'This endpoint requires a valid Bearer token');
  return m[1]!;
}

/** Verifies the JWT (403 bad_jwt on any failure: forged, `alg: none`, wrong key, expired). */
export async function verifyAccessToken(deps: Pick<Deps, 'signer'>, token: string): Promise<JwtClaims> {
  try {
    return await deps.signer.verify(token);
  } catch (err) {
    throw forbidden(ErrorCodes.badJwt, err instanceof JwtError ? err.message : 'invalid JWT', { cause: err });
  }
}

/** A caller at the "admin" level: a valid JWT whose `role` is one of GOTRUE_JWT_ADMIN_ROLES; no `sub` needed. */
export interface AdminCaller {
  role: string;
  claims: JwtClaims;
}

/**
 * The admin-level check of contract §0: no header → 401 no_authorization; a bad, forged or expired token → 403
 * bad_jwt; a valid token of another role (a user's, the anon key) → 403 not_admin. No database round trip.
 */
export async function authenticateAdmin(deps: Pick<Deps, 'signer' | 'config'>, header: string | undefined): Promise<AdminCaller> {
  const claims = await verifyAccessToken(deps, bearerToken(header));
  const role = typeof claims.role === 'string' ? claims.role : '';
  if (role === '' || !deps.config.jwt.adminRoles.includes(role)) throw forbidden(ErrorCodes.notAdmin, 'User not allowed');
  return { role, claims };
}

/**
 * Whether a token is an access token for a resource server (issue 15, item 4): sessions.mintTokens signs those
 * with RFC 9068's `typ: at+jwt`, first-party session JWTs with `typ: JWT`. Read from the header of a token whose
 * signature verified, so only this server's keys can make one.
 */
export function isResourceAccessToken(token: string): boolean {
  const typ = headerOf(token)?.typ;
  return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);
}

/**
 * The user-level check of contract §0, in one database round trip. A resource server's access token is refused
 * (403 oauth_resource_token_not_allowed): it opens its API, not the user's account here; `/oauth/userinfo` alone
 * lets it through (`resourceTokens: 'allow'`).
 */
export async function authenticateUser(deps: Pick<Deps, 'signer' | 'db' | 'clock'>, header: string | undefined, opts: { resourceTokens?: 'allow' } = {}): Promise<AuthenticatedUser> {
  const token = bearerToken(header);
  const claims = await verifyAccessToken(deps, token);
  if (opts.resourceTokens !== 'allow' && isResourceAccessToken(token)) {
    throw forbidden(ErrorCodes.oauthResourceTokenNotAllowed, 'An access token issued for a resource server cannot be used here');
  }
  if (!isUuid(claims.sub)) throw forbidden(ErrorCodes.badJwt, 'invalid claim: missing sub claim');
  const sid = claims['session_id'];
  const sessionId = sid === undefined || sid === null || sid === '' ? undefined : sid;
  if (sessionId !== undefined && !isUuid(sessionId)) throw forbidden(ErrorCodes.badJwt, 'invalid claim: session_id claim must be a UUID');
  const found = await findUserWithRelations(deps.db, claims.sub, sessionId);
  if (!found) throw forbidden(ErrorCodes.userNotFound, 'User from sub claim in JWT does not exist');
  if (!found.session_exists) throw forbidden(ErrorCodes.sessionNotFound, 'Session from session_id claim in JWT does not exist');
  assertNotBanned(found, deps.clock.now(), 'request');
  const { session_exists: _ignored, ...user } = found;
  return { claims, user, sessionId };
}

/**
 * A platform's backend (approve by API, issue 15): `X-API-Key` equal to GOTRUE_OAUTH_SERVER_API_KEY (compared in
 * constant time, as SHA-256 digests so the length leaks nothing), else the admin check above. An X-API-Key that is
 * wrong, or sent while the setting is unset, is 401 bad_api_key: it never falls back to the Authorization header.
 */
export async function authenticateBackend(deps: Pick<Deps, 'signer' | 'config'>, apiKey: string | undefined, authorization: string | undefined): Promise<void> {
  if (apiKey === undefined) {
    await authenticateAdmin(deps, authorization);
    return;
  }
  const expected = deps.config.oauthServer.apiKey;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  if (expected === '' || !timingSafeEqual(digest(apiKey), digest(expected))) throw unauthorized(ErrorCodes.badApiKey, 'Invalid API key');
}
