import { updateUser, type UserWithRelations } from '../domain/user-records';
import { notify } from '../domain/notifications';
import type { Deps } from '../deps';
import { atHashMatches, IdTokenError, nonceMatches, verifyIdToken } from '../external/id-token';
import { ProviderError, type ExternalProvider } from '../external/types';
import { ApiError, badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { sendProviderEmailConfirmation, signInExternalIdentity, vetExternalSignUp } from './account-linking';
import { announceNewUser } from '../domain/users';
import { resolveProvider } from './external-providers';
import { providerApiError } from './provider-errors';
import type { RequestMeta } from '../domain/request-meta';
import * as sessions from '../domain/sessions';

export interface IdTokenGrantInput {
  idToken: string;
  accessToken?: string;
  nonce?: string;
  provider: string;
  /** The signed-in user to link to (link_identity with a Bearer). */
  linkTo?: string;
}

/** GoTrue answers this grant's input problems in OAuth form, with its "invalid request" (space sic). */
const invalidRequest = (message: string, cause?: unknown) => badRequest(ErrorCodes.validationFailed, message, { oauth: { error: 'invalid request' }, cause });

/**
 * grant_type=id_token (contract §1.2): a provider's id_token, verified against its JWKS (issuer, audience = one
 * of our client ids, expiry), signs the user in under the linking rules of §6.6, or links it to the caller.
 */
export async function idTokenGrant(deps: Deps, meta: RequestMeta, input: IdTokenGrantInput): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations }> {
  let provider: ExternalProvider;
  try {
    provider = await resolveProvider(deps, input.provider);
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) throw invalidRequest(`Provider ${input.provider.slice(0, 60)} is not supported or not enabled`, err);
    throw err;
  }
  if (!provider.idToken) throw invalidRequest(`Provider ${provider.name} does not support the id_token grant`);

  let claims: Record<string, unknown>;
  let nonceMode: 'sha256' | 'raw';
  try {
    const settings = await provider.idToken();
    nonceMode = settings.nonce;
    claims = await verifyIdToken(deps.external.fetchFn, input.idToken, settings, provider.audiences, deps.clock.now());
  } catch (err) {
    if (err instanceof IdTokenError) throw invalidRequest(err.message, err);
    if (err instanceof ProviderError) throw providerApiError(err, provider.name);
    throw err;
  }

  if (!provider.skipNonceCheck) {
    const tokenNonce = typeof claims.nonce === 'string' && claims.nonce !== '' ? claims.nonce : undefined;
    const given = input.nonce && input.nonce !== '' ? input.nonce : undefined;
    if (Boolean(tokenNonce) !== Boolean(given)) throw invalidRequest('Passed nonce and nonce in id_token should either both exist or not.');
    if (tokenNonce && given && !nonceMatches(tokenNonce, given, nonceMode)) throw invalidRequest('Nonces mismatch');
  }
  if (input.accessToken && typeof claims.at_hash === 'string' && !atHashMatches(input.idToken, input.accessToken, claims.at_hash)) {
    throw invalidRequest('Invalid access token: at_hash does not match');
  }

  let userData;
  try {
    userData = provider.userFromIdToken(claims);
  } catch (err) {
    throw invalidRequest('Bad ID token: unusable claims', err);
  }
  const identity = { provider: provider.name, userData, emailOptional: provider.emailOptional, linkingTargetId: input.linkTo };
  const newUserId = await vetExternalSignUp(deps, meta, identity);
  const result = await deps.db.transaction().execute(async (trx) => {
    const signed = await signInExternalIdentity(trx, deps, meta, { ...identity, newUserId });
    if (signed.refusal) return { signed, started: undefined };
    const now = deps.clock.now();
    await updateUser(trx, signed.user.id, { last_sign_in_at: now, updated_at: now });
    return { signed, started: await sessions.issue(trx, deps, { user: signed.user, method: 'oauth', meta }) };
  });
  if (result.signed.confirmationFor) await sendProviderEmailConfirmation(deps, meta, result.signed.confirmationFor, deps.config.siteUrl, result.signed.refusal !== undefined);
  if (result.signed.created) await announceNewUser(deps, meta, result.signed.user);
  if (result.signed.refusal || !result.started) throw result.signed.refusal!;
  if (result.signed.notice) await notify(deps, result.signed.notice.kind, result.signed.notice.n);
  return { user: result.started.user, tokens: await sessions.mintTokens(deps, result.started) };
}
