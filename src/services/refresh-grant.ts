import { insertAuditEntries } from '../db/repositories/audit-log';
import {
  findActiveRefreshToken,
  findRefreshToken,
  insertRefreshToken,
  revokeRefreshToken,
  revokeSessionRefreshTokens,
} from '../db/repositories/refresh-tokens';
import { lockSession, touchSessionRefreshed } from '../db/repositories/sessions';
import { findUserWithRelations, type UserWithRelations } from '../db/repositories/users';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from './audit';
import type { RequestMeta } from './request-meta';
import { accessTokenFor, amrFromRows, type IssuedTokens } from './sessions';
import { findAmrClaims } from '../db/repositories/amr-claims';

const notFound = () => badRequest(ErrorCodes.refreshTokenNotFound, 'Invalid Refresh Token: Refresh Token Not Found');
const alreadyUsed = () => badRequest(ErrorCodes.refreshTokenAlreadyUsed, 'Invalid Refresh Token: Already Used');

type Outcome = { kind: 'issued'; selector: string; aal: 'aal1' | 'aal2' | 'aal3' | null } | { kind: 'reused' };

/**
 * grant_type=refresh_token, GoTrue's legacy rotation (contract §2). Every refresh of one session runs under that
 * session's row lock, so concurrent callers see each other's writes:
 * - a live token is revoked and replaced by a child;
 * - a revoked token that is the parent of the live one gets the live one back (the client lost a response);
 * - a revoked token within REUSE_INTERVAL seconds of its revocation gets a new child;
 * - any other revoked token is reuse: with rotation enabled the session's tokens are all revoked, the
 *   revocation is committed, and the caller gets refresh_token_already_used.
 */
export async function refreshGrant(
  deps: Deps,
  meta: RequestMeta,
  refreshToken: string,
): Promise<{ tokens: IssuedTokens; user: UserWithRelations }> {
  const selector = deps.refreshTokens.selectorOf(refreshToken);
  if (!selector) throw notFound();
  const token = await findRefreshToken(deps.db, selector);
  if (!token || !token.session_id || !token.user_id) throw notFound();
  const sessionId = token.session_id;

  const found = await findUserWithRelations(deps.db, token.user_id, sessionId);
  if (!found || !found.session_exists) throw notFound();
  const now = deps.clock.now();
  if (found.banned_until && found.banned_until > now) throw badRequest(ErrorCodes.userBanned, 'User is banned');
  const { session_exists: _s, ...user } = found;
  const { security } = deps.config;

  const outcome = await deps.db.transaction().execute(async (trx): Promise<Outcome> => {
    const session = await lockSession(trx, sessionId);
    const current = session && (await findRefreshToken(trx, selector));
    if (!session || !current) throw notFound();
    if (session.not_after && session.not_after <= now) throw badRequest(ErrorCodes.sessionExpired, 'Invalid Refresh Token: Session Expired');

    if (current.revoked) {
      const active = await findActiveRefreshToken(trx, sessionId);
      if (active?.token && active.parent === selector) return { kind: 'issued', selector: active.token, aal: session.aal };
      const reuseUntil = (current.updated_at?.getTime() ?? 0) + security.refreshTokenReuseInterval * 1000;
      if (now.getTime() >= reuseUntil) {
        if (security.refreshTokenRotationEnabled) await revokeSessionRefreshTokens(trx, sessionId, now);
        return { kind: 'reused' };
      }
    } else {
      await revokeRefreshToken(trx, current.id, now);
    }
    const next = deps.refreshTokens.issue();
    await insertRefreshToken(trx, { selector: next.selector, userId: user.id, sessionId, parent: selector, now });
    await touchSessionRefreshed(trx, sessionId, now);
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'token_revoked'), auditEntry(deps, meta, user, 'token_refreshed')]);
    return { kind: 'issued', selector: next.selector, aal: session.aal };
  });
  if (outcome.kind === 'reused') {
    deps.logger.warn({ session_id: sessionId, user_id: user.id }, 'refresh token reuse detected; session tokens revoked');
    throw alreadyUsed();
  }
  const amr = amrFromRows(await findAmrClaims(deps.db, sessionId));
  const tokens = accessTokenFor(deps, user, { id: sessionId, aal: outcome.aal }, amr, deps.refreshTokens.tokenFor(outcome.selector));
  return { tokens, user };
}
