import { z } from 'zod';
import type { Executor } from '../../db/database';
import type { Deps } from '../../deps';
import { isUuid, normalizeEmail } from '../../domain/identifiers';
import { consentClient, getClient } from '../../domain/oauth-clients';
import { type Answerer, parseScopes, peekAuthorization, settleAuthorization } from '../../domain/oauth-server';
import { consentScopes } from '../../domain/oauth-resources';
import type { RequestMeta } from '../../domain/request-meta';
import { findUserByEmail, findUserWithRelations, lockUser } from '../../domain/user-records';
import type { UserRow } from '../../db/schema';
import { announceNewUser, assertNotBanned, createUser, type NewUserInput, vetNewUser } from '../../domain/users';
import { rethrowUniqueViolation } from '../../domain/unique-violation';
import { badRequest, notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { optBool, optString } from '../../http/fields';

/**
 * Approve by API (issue 15, ours): a platform that keeps its own login answers our authorization requests from its
 * backend — the consent page it hosts at GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH reads `authorization_id`, signs its
 * user in its own way and calls approve or deny with the service_role JWT or X-API-Key (GOTRUE_OAUTH_SERVER_API_KEY).
 * The answer is the consent page's (domain settleAuthorization): same single use, expiry, grant and redirect.
 */

const AuthorizationPath = z.object({ authorization_id: z.string().min(1).max(128) });

const ApproveBody = z.object({ user_id: optString(64), email: optString(255), create_user: optBool() });

/** GET /admin/oauth/authorizations/{authorization_id} → the app, the user if one opened it, the scopes. */
export const adminGetAuthorization = endpoint({ auth: 'backend', params: AuthorizationPath }, async ({ params }, deps) => {
  const a = await peekAuthorization(deps, params.authorization_id);
  const client = await getClient(deps, a.client_id);
  const user = a.user_id ? await findUserWithRelations(deps.db, a.user_id) : undefined;
  return {
    authorization_id: a.authorization_id,
    redirect_uri: a.redirect_uri,
    client: consentClient(client),
    user: user ? { id: user.id, email: user.email ?? '' } : null,
    scope: a.scope,
    ...(await consentScopes(deps, parseScopes(a.scope), a.resource)),
    expires_at: a.expires_at.toISOString(),
  };
});

/** POST /admin/oauth/authorizations/{authorization_id}/approve {user_id | email, create_user?} → {redirect_uri} */
export const adminApproveAuthorization = endpoint({ auth: 'backend', params: AuthorizationPath, body: ApproveBody }, async ({ params, body, meta }, deps) => {
  if ((body.user_id === undefined) === (body.email === undefined)) throw badRequest(ErrorCodes.validationFailed, 'exactly one of user_id and email is required');
  if (body.user_id !== undefined && !isUuid(body.user_id)) throw badRequest(ErrorCodes.validationFailed, 'user_id must be a UUID');
  if (body.create_user && body.email === undefined) throw badRequest(ErrorCodes.validationFailed, 'create_user needs an email');
  const email = body.email === undefined ? undefined : normalizeEmail(body.email);
  // A user to create goes past the before-user-created hook first, outside the transaction (as every sign-up does).
  const create =
    body.create_user && email !== undefined && !(await findUserByEmail(deps.db, email, meta.aud))
      ? await vetNewUser(deps, meta, { channel: { kind: 'admin', email, emailConfirmed: true, phoneConfirmed: false, appMetadata: {}, bannedUntil: null } })
      : undefined;
  let created: UserRow | undefined;
  const answerer: Answerer = async (trx, a) => {
    const user = await resolveUser(trx, deps, meta, { userId: body.user_id?.toLowerCase(), email, create });
    // A user who opened the request on a consent page claimed it; the backend answers for that user only.
    if (a.user_id && a.user_id !== user.id) throw badRequest(ErrorCodes.validationFailed, 'authorization request was opened by another user');
    created = user.created ? user.row : undefined;
    // The platform signed its user in just now, its own way: auth_time is the approval, no amr method of ours.
    return { userId: user.id, signIn: { time: deps.clock.now(), methods: [], aal: 'aal1' } };
  };
  let redirectUri: string;
  try {
    redirectUri = await settleAuthorization(deps, params.authorization_id, true, answerer);
  } catch (err) {
    rethrowUniqueViolation(err);
  }
  if (created) await announceNewUser(deps, meta, created);
  return { redirect_uri: redirectUri };
});

/** POST /admin/oauth/authorizations/{authorization_id}/deny → {redirect_uri} (access_denied back to the client) */
export const adminDenyAuthorization = endpoint({ auth: 'backend', params: AuthorizationPath }, async ({ params }, deps) => ({
  redirect_uri: await settleAuthorization(deps, params.authorization_id, false, () => Promise.resolve(null)),
}));

/**
 * The user an approval names, inside its transaction: by id, or by email in the request's audience; an unknown
 * email with a vetted `create` input becomes a confirmed user without a password (a concurrent creation of the
 * same address loses on the unique index: 422 email_exists). Unknown, deleted → 404 user_not_found; banned →
 * user_banned.
 */
async function resolveUser(
  trx: Executor,
  deps: Pick<Deps, 'clock' | 'random' | 'config'>,
  meta: RequestMeta,
  who: { userId?: string; email?: string; create?: NewUserInput },
): Promise<{ id: string; created: boolean; row: UserRow }> {
  const found = who.userId !== undefined ? await lockUser(trx, who.userId) : await findUserByEmail(trx, who.email!, meta.aud);
  if (found && !found.deleted_at) {
    assertNotBanned(found, deps.clock.now(), 'request');
    return { id: found.id, created: false, row: found };
  }
  if (!found && who.create) {
    const { user } = await createUser(trx, deps, meta, who.create);
    return { id: user.id, created: true, row: user };
  }
  throw notFound(ErrorCodes.userNotFound, 'User not found');
}
