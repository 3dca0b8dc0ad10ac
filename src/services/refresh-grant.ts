import { findActiveRefreshToken, lockRefreshContext, revokeSessionRefreshTokens, rotateRefreshToken } from '../domain/sessions';
import type { UserWithRelations } from '../domain/user-records';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import type { RequestMeta } from '../domain/request-meta';
import { definesScope, OPENID_SCOPES, resourceFrom } from '../domain/oauth-resources';
import { parseScopes } from '../domain/oauth-server';
import * as sessions from '../domain/sessions';
import { assertNotBanned } from '../domain/users';
import { sessionExpiredMessage, sessionVerdict } from '../domain/session-policy';
import { isSupersededSession } from '../domain/user-sessions';
import { endNamedSession, type EndingSession } from '../domain/backchannel-logout';

const notFound = () => badRequest(ErrorCodes.refreshTokenNotFound, 'Invalid Refresh Token: Refresh Token Not Found');
const alreadyUsed = () => badRequest(ErrorCodes.refreshTokenAlreadyUsed, 'Invalid Refresh Token: Already Used');

/**
 * GOTRUE_SESSIONS_ALLOW_LOW_AAL: a session below the user's highest possible AAL (aal2 once they have a verified
 * factor) stops refreshing that long after it started. 0 = no limit.
 */
function isLowAalPastAllowance(deps: Deps, session: { aal: string | null; created_at: Date | null }, user: UserWithRelations, now: Date): boolean {
  const allowance = deps.config.sessions.allowLowAalMs;
  if (allowance <= 0 || session.aal === 'aal2' || session.aal === 'aal3') return false;
  if (!user.factors.some((f) => f.status === 'verified')) return false;
  return now.getTime() > (session.created_at?.getTime() ?? 0) + allowance;
}

type Outcome =
  | { kind: 'issued'; selector: string; session: sessions.TokenSession; user: UserWithRelations; amr: sessions.AmrEntry[] }
  | { kind: 'reused'; sessionId: string; userId: string; notify: EndingSession[] };

/**
 * grant_type=refresh_token, GoTrue's legacy rotation (contract §2). Every refresh of one session runs under that
 * session's row lock, so concurrent callers see each other's writes:
 * - a live token is revoked and replaced by a child;
 * - a revoked token that is the parent of the live one gets the live one back (the client lost a response);
 * - a revoked token within REUSE_INTERVAL seconds of its revocation gets a new child;
 * - any other revoked token is reuse: with rotation enabled the session's tokens are all revoked, the
 *   revocation is committed, and the caller gets refresh_token_already_used.
 *
 * An OAuth client's refresh (issue 15, MCP: several processes of one client share a token) follows its own rule
 * instead of the last three, with GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL:
 * - a revoked token presented within the interval of its revocation gets the family's live token back — the same
 *   new refresh token every concurrent caller gets — never a second child. A child would fork the family into two
 *   live chains; from then on neither chain ever presents a revoked token, so a thief holding one would never be
 *   caught. With one live token per family, whichever of thief and owner uses a stale token after the interval is
 *   caught;
 * - any other revoked token (after the interval, or when the family has no live token) is reuse: the session ends
 *   (its tokens with it, back-channel logout after commit) and the caller gets refresh_token_already_used.
 */
export async function refreshGrant(
  deps: Deps,
  meta: RequestMeta,
  refreshToken: string,
  /**
   * The authenticated OAuth client refreshing (POST /oauth/token, issue 12): a token refreshes only for the client
   * its session was issued to — an OAuth session's token at /token, or another client's, is not found.
   */
  opts: {
    oauthClient?: { id: string; accessTokenTtl: number | null; publicId?: string };
    /**
     * The scope this refresh's access token carries, from the session's granted one (RFC 6749 §6: a narrower one may
     * be asked for); it throws to refuse, before anything rotates, so a refused request leaves the token usable.
     */
    scopeFor?: (granted: string | null) => string | null;
    /** Judges the session's resource binding (RFC 8707 `resource` on refresh); throws to refuse, before anything rotates. */
    resourceFor?: (bound: string | null) => void;
  } = {},
): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations; session: sessions.TokenSession }> {
  const selector = deps.refreshTokens.selectorOf(refreshToken);
  if (!selector) throw notFound();
  const { security } = deps.config;

  // Round trips 1–4: BEGIN, the lock with everything the rotation and the response need (a bound resource's policy
  // included), one rotation statement, COMMIT. An unknown token costs BEGIN, the lock statement and ROLLBACK.
  const outcome = await deps.db.transaction().execute(async (trx): Promise<Outcome> => {
    const ctx = await lockRefreshContext(trx, selector);
    if (!ctx) throw notFound();
    const { sessionId, user, session: state, token } = ctx;
    // The clock is read once the lock is held, as GoTrue does: a caller that waited behind the refresh that
    // revoked its token must not judge the reuse interval by a time from before that revocation (it would fall
    // "inside" the interval and fork the family with a second child; seen with two servers, two-servers-refresh).
    const now = deps.clock.now();
    assertNotBanned(user, now, 'refresh');
    if ((state.oauth_client_id ?? null) !== (opts.oauthClient?.id ?? null)) throw notFound();
    if (state.not_after && state.not_after <= now) throw badRequest(ErrorCodes.sessionExpired, sessionExpiredMessage('past_not_after', deps.config.sessions));
    // GOTRUE_SESSIONS_TIMEBOX and _INACTIVITY_TIMEOUT, judged on the locked row with the clock read under the lock.
    const verdict = sessionVerdict(deps.config.sessions, state, now, token.updated_at);
    if (verdict !== 'valid') throw badRequest(ErrorCodes.sessionExpired, sessionExpiredMessage(verdict, deps.config.sessions));
    // GOTRUE_SESSIONS_SINGLE_PER_USER: one more read, only with the policy on.
    if (deps.config.sessions.singlePerUser && !state.oauth_client_id && (await isSupersededSession(trx, deps.config.sessions, user.id, { ...state, id: sessionId }, now, token.updated_at))) {
      throw badRequest(ErrorCodes.sessionExpired, 'Invalid Refresh Token: Session Expired (Revoked by Newer Login)');
    }
    if (isLowAalPastAllowance(deps, state, user, now)) {
      throw badRequest(ErrorCodes.sessionExpired, 'Invalid Refresh Token: Session Expired (Low AAL: User Needs MFA Verification)');
    }
    opts.resourceFor?.(state.oauth_resource);
    let scopes = opts.scopeFor ? opts.scopeFor(state.scopes) : state.scopes;
    // Issue 15, item 4: a session bound to a resource keeps it; the resource's policy applies as it stands now, and
    // scopes it no longer defines drop out. A resource that is gone (its sessions end with it) refreshes nothing. The
    // stored row came with the lock statement: no round trip of its own.
    const resource = state.oauth_resource ? resourceFrom(deps.config, state.oauth_resource, ctx.resource) : undefined;
    if (state.oauth_resource && !resource) throw notFound();
    if (resource) scopes = parseScopes(scopes ?? '').filter((s) => OPENID_SCOPES.includes(s) || definesScope(resource, s)).join(' ');
    const session = { id: sessionId, aal: state.aal, oauthClientId: state.oauth_client_id, oauthClientPublicId: opts.oauthClient?.publicId ?? null, scopes, resource: state.oauth_resource, resourcePolicy: resource };
    const amr = sessions.amrFromRows(ctx.amr);

    if (token.revoked && opts.oauthClient) {
      const active = await findActiveRefreshToken(trx, sessionId);
      const graceUntil = (token.updated_at?.getTime() ?? 0) + deps.config.oauthServer.refreshTokenReuseInterval * 1000;
      if (active?.token && now.getTime() < graceUntil) return { kind: 'issued', selector: active.token, session, user, amr };
      const ended = await endNamedSession(trx, { sessionId, userId: user.id, clientId: opts.oauthClient.id });
      return { kind: 'reused', sessionId, userId: user.id, notify: ended.notify };
    }
    if (token.revoked) {
      const active = await findActiveRefreshToken(trx, sessionId);
      if (active?.token && active.parent === selector) return { kind: 'issued', selector: active.token, session, user, amr };
      const reuseUntil = (token.updated_at?.getTime() ?? 0) + security.refreshTokenReuseInterval * 1000;
      if (now.getTime() >= reuseUntil) {
        if (security.refreshTokenRotationEnabled) await revokeSessionRefreshTokens(trx, sessionId, now);
        return { kind: 'reused', sessionId, userId: user.id, notify: [] };
      }
    }
    const next = deps.refreshTokens.issue();
    await rotateRefreshToken(trx, {
      revokeId: token.revoked ? null : token.id,
      next: { selector: next.selector, userId: user.id, sessionId, parent: selector, now },
      audit: [auditEntry(deps, meta, user, 'token_revoked'), auditEntry(deps, meta, user, 'token_refreshed')],
      client: { userAgent: meta.userAgent, ip: meta.ip || null },
    });
    return { kind: 'issued', selector: next.selector, session, user, amr };
  });
  if (outcome.kind === 'reused') {
    deps.backchannelLogout.notify(outcome.notify);
    deps.logger.warn({ session_id: outcome.sessionId, user_id: outcome.userId }, 'refresh token reuse detected; session tokens revoked');
    throw alreadyUsed();
  }
  const { user } = outcome;
  const tokens = await sessions.mintTokens(deps, { user, session: outcome.session, amr: outcome.amr, refreshToken: deps.refreshTokens.tokenFor(outcome.selector), authenticationMethod: 'token_refresh', expiresIn: opts.oauthClient?.accessTokenTtl });
  return { tokens, user, session: outcome.session };
}
