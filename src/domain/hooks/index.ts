import { z } from 'zod';
import type { UserRow } from '../../db/schema';
import type { UserWithRelations } from '../../db/repositories/users';
import type { Deps } from '../../deps';
import { hookFailure } from './runner';
import { userJson } from '../user-json';

/**
 * GoTrue's seven auth hooks, one function per kind: each builds GoTrue's input (v0hooks.go), runs it through the
 * hook runner and reads GoTrue's output. Callers check `deps.hooks.enabled(kind)` first and call these OUTSIDE the
 * flow's transaction (GoTrue's checkTX): the hooks can be slow, and a pg-functions hook opens its own.
 */

export { createHookRunner, DEFAULT_HOOK_OPTIONS, type HookRunner, type HookRunnerOptions } from './runner';

type HookDeps = Pick<Deps, 'hooks'>;

/** GoTrue's `models.User` JSON; a bare row (no relations loaded) is sent with empty identities and factors. */
export function hookUser(user: UserRow | UserWithRelations): Record<string, unknown> {
  const withRelations = 'identities' in user ? user : { ...user, identities: [], factors: [] };
  return userJson(withRelations as UserWithRelations);
}

/** GoTrue's MinimumViableTokenSchema: the claims a custom access token hook must give back. */
const tokenClaims = z.looseObject({
  aud: z.union([z.string(), z.array(z.unknown())]),
  exp: z.number().int(),
  jti: z.string().optional(),
  iat: z.number().int(),
  iss: z.string().optional(),
  nbf: z.number().int().optional(),
  sub: z.string(),
  email: z.string(),
  phone: z.string(),
  app_metadata: z.record(z.string(), z.unknown()).optional(),
  user_metadata: z.record(z.string(), z.unknown()).optional(),
  role: z.string(),
  aal: z.string(),
  amr: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
  session_id: z.string(),
  client_id: z.string().optional(),
  is_anonymous: z.unknown().refine((v) => v !== undefined, 'is_anonymous is required'),
});

/**
 * Custom access token: the hook gets the claims mintTokens built and answers `{ claims }`; the claims it returns
 * are signed as they are once they satisfy GoTrue's schema (else 502; GoTrue answers 500).
 */
export async function customizeAccessToken(
  deps: HookDeps,
  input: { userId: string; claims: Record<string, unknown>; authenticationMethod: string; ip?: string },
): Promise<Record<string, unknown>> {
  const answer = await deps.hooks.run('custom_access_token', { user_id: input.userId, claims: input.claims, authentication_method: input.authenticationMethod }, input.ip);
  if (!('claims' in answer)) throw hookFailure('output claims field is missing');
  if (!answer.claims || typeof answer.claims !== 'object' || Array.isArray(answer.claims)) {
    throw hookFailure('Error unmarshaling JSON output.');
  }
  const parsed = tokenClaims.safeParse(answer.claims);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
    throw hookFailure(`output claims do not conform to the expected schema: \n${lines}\n`);
  }
  return answer.claims as Record<string, unknown>;
}

/** A verification attempt hook's verdict. */
export interface AttemptDecision {
  reject: boolean;
  message: string;
  shouldLogoutUser: boolean;
}

const decisionOf = (answer: Record<string, unknown>, defaultMessage: string): AttemptDecision => {
  for (const key of ['decision', 'message'] as const) {
    if (answer[key] !== undefined && answer[key] !== null && typeof answer[key] !== 'string') {
      throw hookFailure('Error unmarshaling JSON output.');
    }
  }
  const message = typeof answer.message === 'string' && answer.message !== '' ? answer.message : defaultMessage;
  return { reject: answer.decision === 'reject', message, shouldLogoutUser: answer.should_logout_user === true };
};

/** Password verification attempt (password grant): runs for valid and invalid passwords alike. */
export async function passwordVerificationAttempt(deps: HookDeps, input: { userId: string; valid: boolean; ip?: string }): Promise<AttemptDecision> {
  const answer = await deps.hooks.run('password_verification_attempt', { user_id: input.userId, valid: input.valid }, input.ip);
  return decisionOf(answer, 'Further password verification attempts will be rejected.');
}

/** MFA verification attempt (POST /factors/:id/verify): runs for valid and invalid codes alike. */
export async function mfaVerificationAttempt(
  deps: HookDeps,
  input: { userId: string; factorId: string; factorType: string; valid: boolean; ip?: string },
): Promise<AttemptDecision> {
  const answer = await deps.hooks.run(
    'mfa_verification_attempt',
    { user_id: input.userId, factor_id: input.factorId, factor_type: input.factorType, valid: input.valid },
    input.ip,
  );
  return decisionOf(answer, 'Further MFA verification attempts will be rejected.');
}

/** GoTrue's mailer.EmailData. */
export interface EmailData {
  token: string;
  token_hash: string;
  redirect_to: string;
  email_action_type: string;
  site_url: string;
  token_new: string;
  token_hash_new: string;
  old_email: string;
  old_phone: string;
  provider: string;
  factor_type: string;
}

/** Send email: the hook sends the mail instead of the mailer. */
export async function sendEmail(deps: HookDeps, input: { user: UserRow | UserWithRelations; emailData: EmailData; ip?: string }): Promise<void> {
  await deps.hooks.run('send_email', { user: hookUser(input.user), email_data: input.emailData }, input.ip);
}

/** Send SMS: the hook sends the code instead of the SMS provider. `smsType` is empty except for MFA ('mfa'), as GoTrue. */
export async function sendSms(deps: HookDeps, input: { user: UserRow | UserWithRelations; phone: string; otp: string; smsType?: string; ip?: string }): Promise<void> {
  const sms = { otp: input.otp, ...(input.smsType ? { sms_type: input.smsType } : {}), phone: input.phone };
  await deps.hooks.run('send_sms', { user: hookUser(input.user), sms }, input.ip);
}

/** Before user created: the user about to be inserted (not yet in the database); an error answer refuses the sign-up. */
export async function beforeUserCreated(deps: HookDeps, input: { user: Record<string, unknown>; ip?: string }): Promise<void> {
  await deps.hooks.run('before_user_created', { user: input.user }, input.ip);
}

/** After user created: the user just committed; an error answer is the request's error (the user stays, as GoTrue). */
export async function afterUserCreated(deps: HookDeps, input: { user: UserRow | UserWithRelations; ip?: string }): Promise<void> {
  await deps.hooks.run('after_user_created', { user: hookUser(input.user) }, input.ip);
}
