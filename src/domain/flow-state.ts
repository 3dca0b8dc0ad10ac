import { hashAuthCode, isValidCodeVerifier, parseCodeChallengeMethod, verifyCodeChallenge, type CodeChallengeMethod } from '../crypto/pkce';
import type { Executor } from '../db/database';
import {
  findLatestFlowStateForUser,
  flowStateExists,
  insertFlowState,
  issueFlowStateCode,
  reissueFlowStateCode,
  takeFlowStateByAuthCode,
  type FlowStatePatch,
} from '../db/repositories/flow-state';
import type { FlowStateRow } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, notFound, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/**
 * PKCE flows (contract §6.2), shared by the email flows (signup, otp, magic link, recovery, email change) and the
 * external OAuth providers. A flow_state row remembers the challenge; its auth code is handed out once (the
 * `?code=` of a redirect) and redeemed once with the verifier by `grant_type=pkce`. Only the code's hash is stored.
 */

export interface PkceParams {
  codeChallenge: string;
  codeChallengeMethod: CodeChallengeMethod;
}

/**
 * Reads `code_challenge` / `code_challenge_method` as GoTrue does: both or neither (null counts as absent);
 * an unknown method or a challenge of the wrong size is a 400 validation_failed.
 */
export function parsePkceParams(challenge: string | null | undefined, method: string | null | undefined): PkceParams | undefined {
  const c = challenge ?? '';
  const m = method ?? '';
  if (c === '' && m === '') return undefined;
  if (c === '' || m === '') throw badRequest(ErrorCodes.validationFailed, 'PKCE flow requires code_challenge_method and code_challenge');
  const parsed = parseCodeChallengeMethod(m);
  if (!parsed) throw badRequest(ErrorCodes.validationFailed, `code challenge method not supported: ${m.slice(0, 20)}`);
  if (!isValidCodeVerifier(c)) throw badRequest(ErrorCodes.validationFailed, 'code challenge has to be between 43 and 128 characters of [A-Za-z0-9._~-]');
  return { codeChallenge: c, codeChallengeMethod: parsed };
}

export interface StartFlowInput {
  userId: string | null;
  /** 'email', 'phone', a provider name such as 'github', or 'custom:<name>'. */
  providerType: string;
  /** The amr method the session will carry: 'email/signup', 'magiclink', 'recovery', 'oauth', 'email_change' … */
  authenticationMethod: string;
  /** Undefined only for flows whose verifier the server keeps itself (none yet). */
  pkce: PkceParams | undefined;
  referrer?: string | null;
  inviteToken?: string | null;
  linkingTargetId?: string | null;
  emailOptional?: boolean;
}

export interface StartedFlow {
  /** flow_state.id: also the OAuth `state`. */
  id: string;
  /** The plain auth code, to put in a `?code=` redirect; the table keeps only its hash. */
  authCode: string;
}

/** Inserts a flow in the caller's transaction. */
export async function startFlow(ex: Executor, deps: Pick<Deps, 'clock' | 'random'>, input: StartFlowInput): Promise<StartedFlow> {
  const id = deps.random.uuid();
  const authCode = deps.random.uuid();
  await insertFlowState(ex, {
    id,
    userId: input.userId,
    authCodeHash: hashAuthCode(authCode),
    codeChallenge: input.pkce?.codeChallenge ?? null,
    codeChallengeMethod: input.pkce?.codeChallengeMethod ?? null,
    providerType: input.providerType,
    authenticationMethod: input.authenticationMethod,
    referrer: input.referrer ?? null,
    inviteToken: input.inviteToken ?? null,
    linkingTargetId: input.linkingTargetId ?? null,
    emailOptional: input.emailOptional ?? false,
    now: deps.clock.now(),
  });
  return { id, authCode };
}

/** A flow is fresh for the configured expiry, counted from when its code was issued, else from its creation. */
export function isFlowExpired(flow: FlowStateRow, now: Date, expiryMs: number): boolean {
  const from = flow.auth_code_issued_at ?? flow.created_at;
  return !from || now.getTime() - from.getTime() > expiryMs;
}

/**
 * Issues the flow's code once: records the user and provider tokens the callback learned. A flow whose code was
 * already issued (a replayed OAuth state) is refused with flow_state_already_used; an unknown one with
 * flow_state_not_found.
 */
export async function issueFlowCode(ex: Executor, deps: Pick<Deps, 'clock'>, flowId: string, patch: FlowStatePatch = {}): Promise<FlowStateRow> {
  const row = await issueFlowStateCode(ex, flowId, deps.clock.now(), patch);
  if (row) return row;
  if (await flowStateExists(ex, flowId)) throw badRequest(ErrorCodes.flowStateAlreadyUsed, 'Flow state already used');
  throw notFound(ErrorCodes.flowStateNotFound, 'invalid flow state, no valid flow state found');
}

/**
 * Email PKCE flows (GET /verify with a `pkce_` token): the user's newest flow for the method gets a freshly minted
 * code, issued once; the plain code goes into the `?code=` redirect. A missing or already issued flow is
 * flow_state_not_found, as GoTrue answers.
 */
export async function issueEmailFlowCode(
  ex: Executor,
  deps: Pick<Deps, 'clock' | 'random'>,
  userId: string,
  authenticationMethod: string,
): Promise<{ flow: FlowStateRow; authCode: string }> {
  const latest = await findLatestFlowStateForUser(ex, userId, authenticationMethod);
  const authCode = deps.random.uuid();
  const flow = latest && (await reissueFlowStateCode(ex, latest.id, hashAuthCode(authCode), deps.clock.now()));
  if (!flow) throw notFound(ErrorCodes.flowStateNotFound, 'No associated flow state found');
  return { flow, authCode };
}

/**
 * `grant_type=pkce`: takes the flow holding this auth code (single use: exactly one concurrent caller receives
 * it, and a failed attempt burns it too, so a code cannot be guessed at) and checks expiry and the verifier.
 */
export async function redeemAuthCode(
  ex: Executor,
  deps: Pick<Deps, 'clock'>,
  authCode: string,
  codeVerifier: string,
  expiryMs: number,
): Promise<FlowStateRow> {
  if (!isValidCodeVerifier(codeVerifier)) {
    throw badRequest(ErrorCodes.badCodeVerifier, 'code verifier should be between 43 and 128 characters of [A-Za-z0-9._~-]');
  }
  const flow = await takeFlowStateByAuthCode(ex, hashAuthCode(authCode));
  // A code is only ever revealed by issuing it; one never issued cannot be redeemed.
  if (!flow || !flow.auth_code_issued_at) throw notFound(ErrorCodes.flowStateNotFound, 'invalid flow state, no valid flow state found');
  if (isFlowExpired(flow, deps.clock.now(), expiryMs)) {
    throw unprocessable(ErrorCodes.flowStateExpired, 'invalid flow state, flow state has expired');
  }
  if (!flow.code_challenge || !flow.code_challenge_method) {
    throw badRequest(ErrorCodes.badCodeVerifier, 'code challenge does not match previously saved code verifier');
  }
  if (!verifyCodeChallenge(codeVerifier, flow.code_challenge, flow.code_challenge_method)) {
    throw badRequest(ErrorCodes.badCodeVerifier, 'code challenge does not match previously saved code verifier');
  }
  return flow;
}

/** Flow rows and the upstream provider's client state (state, our PKCE verifier, nonce) as /authorize and /callback use them. */
export { findFlowStateById } from '../db/repositories/flow-state';
export { attachClientStateToFlow, deleteOauthClientState, findOauthClientState, insertOauthClientState } from '../db/repositories/oauth-client-states';
