import { hashAuthCode, s256Challenge } from '../crypto/pkce';
import { notify } from '../domain/notifications';
import { attachClientStateToFlow, deleteOauthClientState, findOauthClientState, insertOauthClientState } from '../domain/flow-state';
import { findFlowStateById } from '../domain/flow-state';
import { updateUser, type UserWithRelations } from '../domain/user-records';
import type { FlowStateRow } from '../db/schema';
import type { Deps } from '../deps';
import type { CallbackChecks } from '../external/callback';
import type { ExternalProvider, ProviderTokenSet, ProviderUserData } from '../external/types';
import { ApiError, badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { sendProviderEmailConfirmation, signInExternalIdentity, vetExternalSignUp } from './account-linking';
import { announceNewUser } from '../domain/users';
import { resolveProvider } from './external-providers';
import { issueFlowCode, isFlowExpired, startFlow, type PkceParams } from '../domain/flow-state';
import { isUuid } from '../domain/identifiers';
import { providerApiError } from './provider-errors';
import { sealFlowToken, storeProviderTokens } from '../domain/provider-tokens';
import type { RequestMeta } from '../domain/request-meta';
import * as sessions from '../domain/sessions';

export interface StartAuthorizationInput {
  provider: string;
  /** The caller's `scopes` (space- or comma-separated), added to the provider's defaults. */
  scopes: string | undefined;
  /** Already validated (contract §6.7). */
  redirectTo: string;
  pkce: PkceParams | undefined;
  inviteToken: string | undefined;
  /** Manual linking: the signed-in user the identity will be attached to. */
  linkingTargetId: string | undefined;
  /** Other query parameters, passed to the provider. */
  extraParams: Record<string, string>;
}

/**
 * GET /authorize (and /user/identities/authorize): remembers the flow (flow_state: the `state`, the client's PKCE
 * challenge, where to go back) and the upstream request's secrets (oauth_client_states: our PKCE verifier, the
 * OIDC nonce), and returns the provider's authorize URL.
 */
export async function startAuthorization(deps: Deps, input: StartAuthorizationInput): Promise<{ url: string; provider: string }> {
  const provider = await resolveProvider(deps, input.provider);
  const client = deps.external.protocol(provider);
  const oidc = provider.settings.protocol === 'oidc';
  // Discovery first: a provider that is down leaves no rows behind.
  if (oidc) await client.oidcMetadata().catch((err: unknown) => Promise.reject(providerApiError(err, provider.name)));

  const extra = { ...input.extraParams };
  const nonce = oidc ? (extra.nonce ?? deps.random.bytes(24).toString('base64url')) : null;
  if (oidc) delete extra.nonce;
  const verifier = provider.settings.pkce ? deps.random.bytes(48).toString('base64url') : null;
  const userScopes = (input.scopes ?? '').split(/[\s,]+/).filter(Boolean);
  const scopes = [...new Set([...provider.settings.scopes, ...userScopes])];

  const flow = await deps.db.transaction().execute(async (trx) => {
    const started = await startFlow(trx, deps, {
      userId: null,
      providerType: provider.name,
      authenticationMethod: 'oauth',
      pkce: input.pkce,
      referrer: input.redirectTo,
      inviteToken: input.inviteToken ?? null,
      linkingTargetId: input.linkingTargetId ?? null,
    });
    const clientStateId = deps.random.uuid();
    await insertOauthClientState(trx, { id: clientStateId, providerType: provider.name, codeVerifier: verifier, nonce, now: deps.clock.now() });
    await attachClientStateToFlow(trx, started.id, clientStateId);
    return started;
  });
  try {
    const url = await client.authorizationUrl({ state: flow.id, scopes, codeChallenge: verifier ? s256Challenge(verifier) : undefined, nonce: nonce ?? undefined, extra });
    return { url: url.href, provider: provider.name };
  } catch (err) {
    throw providerApiError(err, provider.name);
  }
}

export interface CallbackFlow {
  flow: FlowStateRow;
  provider: ExternalProvider;
  checks: CallbackChecks;
}

/** A state problem: the callback answers it with a 303 to SITE_URL (contract §1.5). */
export class OAuthStateError extends ApiError {}

/**
 * Resolves the callback's `state` to its flow, before anything is sent to the provider: malformed or unknown →
 * bad_oauth_state, expired → flow_state_expired, already completed (a replay) → flow_state_already_used.
 */
export async function loadCallbackFlow(deps: Deps, state: string | undefined): Promise<CallbackFlow> {
  if (!state || !isUuid(state)) throw new OAuthStateError(400, ErrorCodes.badOauthState, 'OAuth state parameter missing or invalid');
  const flow = await findFlowStateById(deps.db, state);
  if (!flow || flow.authentication_method !== 'oauth') throw new OAuthStateError(400, ErrorCodes.badOauthState, 'OAuth callback with invalid state');
  if (flow.auth_code_issued_at) throw new OAuthStateError(400, ErrorCodes.flowStateAlreadyUsed, 'Flow state already used');
  if (isFlowExpired(flow, deps.clock.now(), deps.config.external.flowStateExpiryMs)) {
    throw new OAuthStateError(422, ErrorCodes.flowStateExpired, 'OAuth state has expired');
  }
  const clientState = flow.oauth_client_state_id ? await findOauthClientState(deps.db, flow.oauth_client_state_id) : undefined;
  const provider = await resolveProvider(deps, flow.provider_type);
  return { flow, provider, checks: { state: flow.id, codeVerifier: clientState?.code_verifier ?? undefined, nonce: clientState?.nonce ?? undefined } };
}

/** Where the callback sends the browser: EXTERNAL_REDIRECT_URL, else the flow's redirect_to, else SITE_URL. */
export const callbackTarget = (deps: Pick<Deps, 'config'>, flow: FlowStateRow | undefined) =>
  deps.config.external.redirectUrl ?? flow?.referrer ?? deps.config.siteUrl;

export type CallbackOutcome =
  | { kind: 'code'; authCode: string }
  | { kind: 'session'; tokens: sessions.IssuedTokens; user: UserWithRelations; providerToken: string; providerRefreshToken: string | undefined };

/**
 * Completes a sign-in (or a manual link) from what the provider said, in one transaction with its audit rows:
 * the account decision (§6.6), the vault, and the flow's single use. A PKCE flow gets its code issued (the
 * provider tokens ride on the flow row, sealed when the vault has a key); an implicit flow gets a session.
 */
export async function completeCallback(
  deps: Deps,
  meta: RequestMeta,
  cf: CallbackFlow,
  learned: { userData: ProviderUserData; tokens: ProviderTokenSet },
): Promise<CallbackOutcome> {
  const { flow, provider } = cf;
  const pkce = Boolean(flow.code_challenge);
  const authCode = deps.random.uuid();
  const identity = { provider: provider.name, userData: learned.userData, emailOptional: provider.emailOptional, linkingTargetId: flow.linking_target_id };
  const newUserId = await vetExternalSignUp(deps, meta, identity);
  const result = await deps.db.transaction().execute(async (trx) => {
    const signed = await signInExternalIdentity(trx, deps, meta, { ...identity, newUserId });
    if (signed.refusal) {
      await issueFlowCode(trx, deps, flow.id, { userId: signed.user.id });
      return { signed, started: undefined };
    }
    await storeProviderTokens(trx, deps, { identityId: signed.identityId, userId: signed.user.id, provider: provider.name, tokens: learned.tokens, keepRefreshToken: provider.keepsRefreshTokens });
    await issueFlowCode(trx, deps, flow.id, {
      userId: signed.user.id,
      ...(pkce
        ? {
            authCodeHash: hashAuthCode(authCode),
            providerAccessToken: sealFlowToken(deps, flow.id, 'access', learned.tokens.accessToken),
            providerRefreshToken: sealFlowToken(deps, flow.id, 'refresh', learned.tokens.refreshToken),
          }
        : {}),
    });
    if (flow.oauth_client_state_id) await deleteOauthClientState(trx, flow.oauth_client_state_id);
    if (pkce) return { signed, started: undefined };
    const now = deps.clock.now();
    await updateUser(trx, signed.user.id, { last_sign_in_at: now, updated_at: now });
    return { signed, started: await sessions.issue(trx, deps, { user: signed.user, method: 'oauth', meta }) };
  });

  if (result.signed.confirmationFor) {
    await sendProviderEmailConfirmation(deps, meta, result.signed.confirmationFor, flow.referrer ?? deps.config.siteUrl, result.signed.refusal !== undefined);
  }
  if (result.signed.notice && !result.signed.refusal) await notify(deps, result.signed.notice.kind, result.signed.notice.n);
  if (result.signed.created) await announceNewUser(deps, meta, result.signed.user);
  if (result.signed.refusal) throw result.signed.refusal;
  if (pkce) return { kind: 'code', authCode };
  const started = result.started!;
  return {
    kind: 'session',
    user: started.user,
    tokens: await sessions.mintTokens(deps, started),
    providerToken: learned.tokens.accessToken,
    providerRefreshToken: learned.tokens.refreshToken,
  };
}

/** The provider sent `error` to the callback (the user refused, the provider failed). */
export function providerCallbackError(error: string, description: string | undefined): ApiError {
  const code = /^[a-z_]{1,64}$/.test(error) ? error : 'server_error';
  const text = (description ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  return badRequest(ErrorCodes.badOauthCallback, text || `The provider answered ${code}`, { oauth: { error: code } });
}
