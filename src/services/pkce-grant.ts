import { insertAuditEntries } from '../domain/audit';
import { findUserWithRelations, updateUser, type UserWithRelations } from '../domain/user-records';
import type { Deps } from '../deps';
import { notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import { redeemAuthCode } from '../domain/flow-state';
import { openFlowToken } from '../domain/provider-tokens';
import type { RequestMeta } from '../domain/request-meta';
import * as sessions from '../domain/sessions';
import { assertNotBanned } from '../domain/users';

export interface PkceGrantInput {
  authCode: string;
  codeVerifier: string;
}

export interface PkceGrantResult {
  tokens: sessions.IssuedTokens;
  user: UserWithRelations;
  providerToken: string | null;
  providerRefreshToken: string | null;
}

/**
 * grant_type=pkce (contract §6.2): exchanges an issued auth code and its verifier for a session whose amr is the
 * flow's authentication method. The code is consumed on its own statement before the session is started, so a
 * failed attempt still burns it; a flow with no user (never completed) is flow_state_not_found.
 */
export async function pkceGrant(deps: Deps, meta: RequestMeta, input: PkceGrantInput): Promise<PkceGrantResult> {
  const flow = await redeemAuthCode(deps.db, deps, input.authCode, input.codeVerifier, deps.config.external.flowStateExpiryMs);
  const user = flow.user_id ? await findUserWithRelations(deps.db, flow.user_id) : undefined;
  if (!user) throw notFound(ErrorCodes.flowStateNotFound, 'invalid flow state, no valid flow state found');
  const now = deps.clock.now();
  assertNotBanned(user, now, 'token');

  const started = await deps.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, { last_sign_in_at: now, updated_at: now });
    const s = await sessions.issue(trx, deps, { user, method: flow.authentication_method, meta });
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'login', { provider: flow.provider_type, provider_type: flow.provider_type })]);
    return s;
  });
  return {
    tokens: await sessions.mintTokens(deps, started),
    user: started.user,
    providerToken: openFlowToken(deps, flow.id, 'access', flow.provider_access_token),
    providerRefreshToken: openFlowToken(deps, flow.id, 'refresh', flow.provider_refresh_token),
  };
}
