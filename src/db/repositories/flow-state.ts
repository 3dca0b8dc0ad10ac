import type { Executor } from '../database';
import type { FlowStateRow } from '../schema';

export interface NewFlowState {
  id: string;
  userId: string | null;
  /** Already hashed (crypto/pkce hashAuthCode). */
  authCodeHash: string;
  codeChallenge: string | null;
  codeChallengeMethod: 's256' | 'plain' | null;
  providerType: string;
  authenticationMethod: string;
  referrer: string | null;
  inviteToken: string | null;
  linkingTargetId: string | null;
  emailOptional: boolean;
  now: Date;
}

export async function insertFlowState(ex: Executor, f: NewFlowState): Promise<void> {
  await ex
    .insertInto('flow_state')
    .values({
      id: f.id,
      user_id: f.userId,
      auth_code: f.authCodeHash,
      code_challenge: f.codeChallenge,
      code_challenge_method: f.codeChallengeMethod,
      provider_type: f.providerType,
      authentication_method: f.authenticationMethod,
      referrer: f.referrer,
      invite_token: f.inviteToken,
      linking_target_id: f.linkingTargetId,
      email_optional: f.emailOptional,
      created_at: f.now,
      updated_at: f.now,
    })
    .execute();
}

export async function findFlowStateById(ex: Executor, id: string): Promise<FlowStateRow | undefined> {
  return ex.selectFrom('flow_state').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function flowStateExists(ex: Executor, id: string): Promise<boolean> {
  return (await ex.selectFrom('flow_state').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** The user's newest flow for an authentication method (email links carry no flow id, only the user). */
export async function findLatestFlowStateForUser(ex: Executor, userId: string, authenticationMethod: string): Promise<FlowStateRow | undefined> {
  return ex
    .selectFrom('flow_state')
    .selectAll()
    .where('user_id', '=', userId)
    .where('authentication_method', '=', authenticationMethod)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface FlowStatePatch {
  userId?: string;
  /** A new (hashed) auth code: an OAuth callback mints the code it hands out, the one from /authorize is never shown. */
  authCodeHash?: string;
  providerAccessToken?: string | null;
  providerRefreshToken?: string | null;
}

/**
 * Marks the flow's code as issued and records what the callback learned. Exactly one concurrent caller receives
 * the row: a flow whose code was already issued (a replayed OAuth `state`, a second click) returns undefined.
 */
export async function issueFlowStateCode(ex: Executor, id: string, now: Date, patch: FlowStatePatch = {}): Promise<FlowStateRow | undefined> {
  return ex
    .updateTable('flow_state')
    .set({
      auth_code_issued_at: now,
      updated_at: now,
      ...(patch.userId !== undefined ? { user_id: patch.userId } : {}),
      ...(patch.authCodeHash !== undefined ? { auth_code: patch.authCodeHash } : {}),
      ...(patch.providerAccessToken !== undefined ? { provider_access_token: patch.providerAccessToken } : {}),
      ...(patch.providerRefreshToken !== undefined ? { provider_refresh_token: patch.providerRefreshToken } : {}),
    })
    .where('id', '=', id)
    .where('auth_code_issued_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Issues a new code for a flow whose code was never issued (email flows: the code is minted when the link is
 * followed, since only its hash is kept from the start). One UPDATE: exactly one concurrent caller receives the row.
 */
export async function reissueFlowStateCode(ex: Executor, id: string, authCodeHash: string, now: Date): Promise<FlowStateRow | undefined> {
  return ex
    .updateTable('flow_state')
    .set({ auth_code: authCodeHash, auth_code_issued_at: now, updated_at: now })
    .where('id', '=', id)
    .where('auth_code_issued_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes the user's flows of an authentication method that were never issued (undoing an unsent email flow). */
export async function deleteUnissuedFlowStates(ex: Executor, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await ex.deleteFrom('flow_state').where('id', 'in', ids).where('auth_code_issued_at', 'is', null).execute();
}

/** Deletes and returns the flow holding this (hashed) code. Exactly one concurrent caller receives the row. */
export async function takeFlowStateByAuthCode(ex: Executor, authCodeHash: string): Promise<FlowStateRow | undefined> {
  return ex.deleteFrom('flow_state').where('auth_code', '=', authCodeHash).returningAll().executeTakeFirst();
}
