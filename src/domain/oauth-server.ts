import type { Config } from '../config';
import { hashAuthCode } from '../crypto/pkce';
import type { Deps } from '../deps';
import {
  approveOauthAuthorization,
  findOauthAuthorization,
  findOauthAuthorizationByCode,
  insertOauthAuthorization,
  lockOauthAuthorization,
  redeemOauthAuthorization,
  setOauthAuthorizationStatus,
  setOauthAuthorizationUser,
} from '../db/repositories/oauth-authorizations';
import { findActiveConsent, listUserGrants, revokeUserGrant, upsertConsent } from '../db/repositories/oauth-consents';
import { deleteSessionById, findOauthSession, findSessionByRefreshSelector } from '../db/repositories/oauth-sessions';
import type { OauthAuthorizationRow } from '../db/schema';
import { ApiError, badRequest, forbidden, notFound } from '../errors/api-error';
import type { Executor } from '../db/database';
import { findOauthClient } from '../db/repositories/oauth-clients';
import { listBackchannelSessions } from '../db/repositories/oauth-logout';
import { countVerifiedAuthenticators } from './factors';
import { ErrorCodes, type ErrorCode } from '../errors/codes';

/**
 * The OAuth server's state in the kernel (issue 12): authorization requests, consents (grants), the sessions
 * OAuth clients hold. Flows in src/features/oauth-server/ call these; only this module touches their tables.
 */

export { deleteSessionById, findOauthSession, findSessionByRefreshSelector, listUserGrants, redeemOauthAuthorization, findOauthAuthorizationByCode };

/** The scopes this server grants. */
export const SUPPORTED_SCOPES = ['openid', 'email', 'profile', 'phone', 'offline_access'] as const;

/** Scopes as a list: space-separated, duplicates dropped, order kept. */
export const parseScopes = (scope: string): string[] => [...new Set(scope.split(/\s+/).filter((s) => s !== ''))];

/**
 * The issuer of the OAuth server: GOTRUE_JWT_ISSUER, else API_EXTERNAL_URL (no trailing slash). The discovery
 * document, the ID tokens' `iss` and RFC 9207's `iss` redirect parameter all name this one value.
 */
export const oauthIssuer = (config: Pick<Config, 'api' | 'jwt'>): string => config.jwt.issuer || config.api.externalUrl.replace(/\/+$/, '');

/** Where the hosted pages (GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED) live, under API_EXTERNAL_URL. */
export const HOSTED_PAGES_PATH = '/oauth/pages';

/** Whether this server's hosted pages answer: the OAuth server on, the pages enabled, and no app consent page set. */
export const hostedPagesOn = (o: Pick<Config['oauthServer'], 'enabled' | 'hostedPagesEnabled' | 'authorizationPath'>): boolean =>
  o.enabled && o.hostedPagesEnabled && !o.authorizationPath;

/**
 * The consent page /oauth/authorize sends the browser to, or undefined when there is none: the app's
 * (SITE_URL + GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH) when set, else this server's hosted one when enabled
 * (API_EXTERNAL_URL/oauth/pages/consent). `authorization_id` is added to its query.
 */
export function consentPageUrl(config: Pick<Config, 'api' | 'siteUrl' | 'oauthServer'>, authorizationId: string): string | undefined {
  const path = config.oauthServer.authorizationPath;
  let base: string;
  if (path) base = config.siteUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
  else if (hostedPagesOn(config.oauthServer)) base = `${config.api.externalUrl.replace(/\/+$/, '')}${HOSTED_PAGES_PATH}/consent`;
  else return undefined;
  const page = new URL(base);
  page.searchParams.set('authorization_id', authorizationId);
  return page.toString();
}

/** An RFC 6749 protocol error in `{error, error_description}` form. */
export const oauthError = (status: number, error: string, message: string, code: ErrorCode = ErrorCodes.oauthInvalidRequest) => new ApiError(status, code, message, { oauth: { error } });
export const invalidGrant = (message: string) => oauthError(400, 'invalid_grant', message, ErrorCodes.oauthInvalidGrant);

export interface NewAuthorization {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string | null;
  resource: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: 's256' | 'plain' | null;
  nonce: string | null;
  prompt: string | null;
  maxAge: number | null;
}

/** How the user answering the consent page had signed in (from their session's access token). */
export interface SignIn {
  /** The most recent authentication of the session. */
  time: Date;
  /** AMR methods, newest first. */
  methods: string[];
  aal: string;
}

/** Stores an authorization request; returns its public id (the consent page's `authorization_id`). */
export async function createAuthorization(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config'>, a: NewAuthorization): Promise<string> {
  const now = deps.clock.now();
  const authorizationId = deps.random.bytes(24).toString('base64url');
  await insertOauthAuthorization(deps.db, {
    id: deps.random.uuid(),
    authorization_id: authorizationId,
    client_id: a.clientId,
    redirect_uri: a.redirectUri,
    scope: a.scope,
    state: a.state,
    resource: a.resource,
    code_challenge: a.codeChallenge,
    code_challenge_method: a.codeChallengeMethod,
    nonce: a.nonce,
    prompt: a.prompt,
    max_age: a.maxAge,
    created_at: now,
    expires_at: new Date(now.getTime() + deps.config.oauthServer.authorizationTtlMs),
    status: 'pending',
  });
  return authorizationId;
}

const authorizationNotFound = () => notFound(ErrorCodes.oauthAuthorizationNotFound, 'authorization not found');

/** The redirect back to the client: `code`, `state` and `iss` (RFC 9207) in the query. */
export function successRedirect(config: Pick<Config, 'api' | 'jwt'>, a: Pick<OauthAuthorizationRow, 'redirect_uri' | 'state'>, code: string): string {
  const u = new URL(a.redirect_uri);
  u.searchParams.set('code', code);
  if (a.state) u.searchParams.set('state', a.state);
  u.searchParams.set('iss', oauthIssuer(config));
  return u.toString();
}

/** An error redirect back to the client (RFC 6749 §4.1.2.1), with `iss` (RFC 9207). Only for a validated redirect_uri. */
export function errorRedirect(config: Pick<Config, 'api' | 'jwt'>, redirectUri: string, error: string, description: string, state: string | null | undefined): string {
  const u = new URL(redirectUri);
  u.searchParams.set('error', error);
  u.searchParams.set('error_description', description);
  if (state) u.searchParams.set('state', state);
  u.searchParams.set('iss', oauthIssuer(config));
  return u.toString();
}

/** A new authorization code: 32 random bytes, base64url; the database keeps its SHA-256. */
const newCode = (deps: Pick<Deps, 'random'>) => deps.random.bytes(32).toString('base64url');

export type AuthorizationView =
  | { kind: 'consent'; authorization: OauthAuthorizationRow }
  | { kind: 'redirect'; redirectUrl: string };

/**
 * An authorization locked for its answer, in the caller's transaction: unknown → not found; past its expiry →
 * 'expired' (a pending one is marked so, and the caller commits that before answering not found); already answered
 * → 400 validation_failed with `notPending`. The clock is read under the lock.
 */
async function lockPending(
  trx: Executor,
  deps: Pick<Deps, 'clock'>,
  authorizationId: string,
  notPending: string,
): Promise<{ a: OauthAuthorizationRow; now: Date } | 'expired'> {
  const a = await lockOauthAuthorization(trx, authorizationId);
  if (!a) throw authorizationNotFound();
  const now = deps.clock.now();
  if (a.expires_at <= now) {
    if (a.status === 'pending') await setOauthAuthorizationStatus(trx, a.id, 'expired');
    return 'expired';
  }
  if (a.status !== 'pending') throw badRequest(ErrorCodes.validationFailed, notPending);
  return { a, now };
}

/**
 * GET /oauth/authorizations/{id}, GoTrue's rules in one transaction under the row lock: an expired request is
 * marked so and not found; one that is not pending cannot be processed; the first user to open it claims it
 * (another user gets not found); when the user's live grant already covers the scopes it is approved at once and
 * the caller gets the redirect with the code.
 */
export async function openAuthorization(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config'>, authorizationId: string, userId: string, signIn: SignIn): Promise<AuthorizationView> {
  const outcome = await deps.db.transaction().execute(async (trx): Promise<AuthorizationView | 'expired' | ApiError> => {
    const locked = await lockPending(trx, deps, authorizationId, 'authorization request cannot be processed');
    if (locked === 'expired') return locked;
    const { a, now } = locked;
    if (a.user_id && a.user_id !== userId) throw authorizationNotFound();
    // The user claims the request even when MFA is still needed, so the consent page can retry or approve it.
    const mfa = await mfaProblemOf(trx, a.client_id, userId, signIn);
    if (mfa) {
      if (!a.user_id) await setOauthAuthorizationUser(trx, a.id, userId);
      return mfa;
    }
    const stale = signInTooOld(a, signIn, now);
    if (stale) {
      await setOauthAuthorizationStatus(trx, a.id, 'denied');
      return { kind: 'redirect', redirectUrl: errorRedirect(deps.config, a.redirect_uri, 'login_required', stale, a.state) };
    }
    if (!a.user_id) {
      await setOauthAuthorizationUser(trx, a.id, userId);
      const consent = await findActiveConsent(trx, userId, a.client_id);
      const granted = new Set(parseScopes(consent?.scopes ?? ''));
      const askAgain = (a.prompt ?? '').split(' ').includes('consent');
      // A resource's own scopes are asked every time (issue 15, item 4): the grant records scope names only, and two
      // resources may both name a scope "read".
      const custom = parseScopes(a.scope).some((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s));
      if (consent && !askAgain && !custom && parseScopes(a.scope).every((s) => granted.has(s))) {
        const code = newCode(deps);
        await approveOauthAuthorization(trx, a.id, hashAuthCode(code), now, authOf(signIn));
        return { kind: 'redirect', redirectUrl: successRedirect(deps.config, a, code) };
      }
    }
    return { kind: 'consent', authorization: { ...a, user_id: userId } };
  });
  if (outcome === 'expired') throw authorizationNotFound();
  if (outcome instanceof ApiError) throw outcome;
  return outcome;
}

/**
 * POST /oauth/authorizations/{id}/consent: approve (the grant is recorded, a code issued) or deny (access_denied
 * back to the client). Only the user who opened the request may answer it, once, before it expires.
 */
export async function answerAuthorization(
  deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config'>,
  authorizationId: string,
  userId: string,
  approve: boolean,
  signIn: SignIn,
): Promise<string> {
  return settleAuthorization(deps, authorizationId, approve, async (_trx, a) => {
    if (a.user_id !== userId) throw authorizationNotFound();
    return { userId, signIn };
  });
}

/**
 * Who answers a pending authorization, decided inside its transaction under the row lock: the user the code is
 * for and how they signed in; null when a backend denies and names no user.
 */
export type Answerer = (trx: Executor, a: OauthAuthorizationRow) => Promise<{ userId: string; signIn: SignIn } | null>;

/**
 * Approve or deny a pending authorization in one transaction under its row lock: the consent page's answer and a
 * backend's (approve by API, issue 15) share every rule — unknown or expired → not found (an expired one is marked
 * so), answered once only, max_age/prompt=login freshness, the grant recorded, the redirect with code, state, iss.
 */
export async function settleAuthorization(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config'>, authorizationId: string, approve: boolean, answerer: Answerer): Promise<string> {
  const outcome = await deps.db.transaction().execute(async (trx): Promise<string | 'expired'> => {
    const locked = await lockPending(trx, deps, authorizationId, 'authorization request is no longer pending');
    if (locked === 'expired') return locked;
    const { a, now } = locked;
    const who = await answerer(trx, a);
    if (!approve) {
      await setOauthAuthorizationStatus(trx, a.id, 'denied');
      return errorRedirect(deps.config, a.redirect_uri, 'access_denied', 'User denied the request', a.state);
    }
    if (!who) throw new Error('settleAuthorization: an approval names its user');
    const mfa = await mfaProblemOf(trx, a.client_id, who.userId, who.signIn);
    if (mfa) throw mfa;
    const stale = signInTooOld(a, who.signIn, now);
    if (stale) {
      await setOauthAuthorizationStatus(trx, a.id, 'denied');
      return errorRedirect(deps.config, a.redirect_uri, 'login_required', stale, a.state);
    }
    if (a.user_id !== who.userId) await setOauthAuthorizationUser(trx, a.id, who.userId);
    const code = newCode(deps);
    await approveOauthAuthorization(trx, a.id, hashAuthCode(code), now, authOf(who.signIn));
    await upsertConsent(trx, { id: deps.random.uuid(), userId: who.userId, clientId: a.client_id, scopes: parseScopes(a.scope).join(' '), now });
    return successRedirect(deps.config, a, code);
  });
  if (outcome === 'expired') throw authorizationNotFound();
  return outcome;
}

/**
 * GET /admin/oauth/authorizations/{id}: a pending, unexpired authorization as it stands, read without claiming it;
 * anything else is not found (an answered one: not pending).
 */
export async function peekAuthorization(deps: Pick<Deps, 'db' | 'clock'>, authorizationId: string): Promise<OauthAuthorizationRow> {
  const a = await findOauthAuthorization(deps.db, authorizationId);
  if (!a || a.expires_at <= deps.clock.now()) throw authorizationNotFound();
  if (a.status !== 'pending') throw badRequest(ErrorCodes.validationFailed, 'authorization request is no longer pending');
  return a;
}

/**
 * A client with `require_mfa` is authorized only from an aal2 session (issue 15): a user with a verified factor
 * but an aal1 session gets 403 insufficient_aal (run the MFA challenge, then retry the same authorization); a user
 * with no verified factor gets 403 mfa_enrollment_required (add a second factor to use this app). The request stays
 * pending, so the consent page can retry it after either.
 */
async function mfaProblemOf(ex: Executor, clientId: string, userId: string, signIn: SignIn): Promise<ApiError | undefined> {
  const client = await findOauthClient(ex, clientId);
  if (!client?.require_mfa || signIn.aal === 'aal2') return undefined;
  if ((await countVerifiedAuthenticators(ex, userId)) > 0) {
    return forbidden(ErrorCodes.insufficientAal, 'This app requires multi-factor authentication: verify a second factor (MFA challenge), then retry');
  }
  return forbidden(ErrorCodes.mfaEnrollmentRequired, 'This app requires multi-factor authentication: add a second factor to use this app');
}

const authOf = (s: SignIn) => ({ time: s.time, methods: s.methods.join(','), aal: s.aal });

/**
 * OIDC's freshness demands: with `max_age` the user must have signed in at most that long ago; with prompt=login,
 * after the request was made (the consent page signs the user in again; the hosted pages ask before they answer).
 * Returns why not, or undefined.
 */
export function signInTooOld(a: Pick<OauthAuthorizationRow, 'max_age' | 'prompt' | 'created_at'>, signIn: SignIn, now: Date): string | undefined {
  if (a.max_age !== null && now.getTime() - signIn.time.getTime() > a.max_age * 1000) return 'the user signed in longer ago than max_age allows';
  if ((a.prompt ?? '').split(' ').includes('login') && signIn.time.getTime() < new Date(a.created_at).getTime() - 1000) {
    return 'prompt=login: the user must sign in again after the request';
  }
  return undefined;
}

/** DELETE /user/oauth/grants: revokes the grant and ends the client's sessions of the user. */
export async function revokeGrant(deps: Pick<Deps, 'db' | 'clock' | 'backchannelLogout'>, userId: string, clientId: string): Promise<void> {
  const { revoked, ending } = await deps.db.transaction().execute(async (trx) => {
    // Issue 15: the client hears by back-channel logout about its sessions that end (after commit).
    const ending = (await listBackchannelSessions(trx, userId)).filter((e) => e.client_id === clientId);
    return { revoked: await revokeUserGrant(trx, userId, clientId, deps.clock.now()), ending };
  });
  if (!revoked) throw notFound(ErrorCodes.oauthConsentNotFound, 'No active grant found for this client');
  deps.backchannelLogout.notify(ending);
}
