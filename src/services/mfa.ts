import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { tokensEqual } from '../crypto/otp';
import { totpStepOf } from '../crypto/totp';
import type { Executor } from '../db/database';
import type { Deps } from '../deps';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import type { EndingSession } from '../domain/backchannel-logout';
import * as factors from '../domain/factors';
import { AMR_METHOD, secretContext, type FactorType } from '../domain/factors';
import { mfaSmsCode, parseChannel, sendMfaSms } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';
import * as sessions from '../domain/sessions';
import * as hooks from '../domain/hooks';
import { endSessions } from '../domain/user-sessions';
import { notify } from '../domain/notifications';
import type { UserWithRelations } from '../domain/user-records';
import { badRequest, forbidden, notFound, tooManyRequests, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/**
 * MFA challenge and verify, GoTrue's mfa.go rule by rule: shared by the /factors routes (src/features/mfa) and the
 * hosted OAuth pages' TOTP step (src/features/oauth-pages), so it lives a floor below both. A challenge of a factor
 * is verified with a code, which verifies the factor (first time) and raises the caller's session to aal2 in place.
 * The verify step raises the session and mints nothing: the API route mints after it (verify), the pages do not
 * (verifyTotpCode, which needs no challenge).
 */

export const factorNotFound = () => notFound(ErrorCodes.mfaFactorNotFound, 'Factor not found');

/** The TOTP or phone code as stored on a phone challenge: a hash bound to the challenge, never the code itself. */
const challengeCodeHash = (challengeId: string, code: string) => createHash('sha256').update(`${challengeId}:${code}`).digest('hex');

/** mfa_challenges.ip_address is inet: a request without a usable address is recorded as 0.0.0.0. */
export const challengeIp = (meta: RequestMeta) => (isIP(meta.ip) ? meta.ip : '0.0.0.0');

/** Anonymous users cannot use /factors (GoTrue's requireNotAnonymous). */
export function assertNotAnonymous(auth: AuthenticatedUser): void {
  if (auth.claims['is_anonymous'] === true || auth.user.is_anonymous) {
    throw forbidden(ErrorCodes.noAuthorization, 'Anonymous user not allowed to perform these actions');
  }
}

/** The caller's factor, with its secret, or 404 mfa_factor_not_found (someone else's factor is not found either). */
export async function loadFactor(deps: Deps, auth: AuthenticatedUser, factorId: string) {
  const factor = await factors.findFactorRowOfUser(deps.db, auth.user.id, factorId);
  if (!factor) throw factorNotFound();
  return factor;
}

/** GoTrue's per-type verify switches, shared by challenge and verify. */
function assertVerifyEnabled(deps: Deps, type: FactorType): void {
  const { mfa } = deps.config;
  if (type === 'totp' && !mfa.totp.verifyEnabled) throw unprocessable(ErrorCodes.mfaTotpVerifyNotEnabled, 'MFA verification is disabled for TOTP');
  if (type === 'phone' && !mfa.phone.verifyEnabled) throw unprocessable(ErrorCodes.mfaPhoneVerifyNotEnabled, 'MFA verification is disabled for Phone');
  if (type === 'webauthn') throw unprocessable(ErrorCodes.mfaWebauthnVerifyNotEnabled, 'MFA verification is disabled for WebAuthn');
  if (type === 'recovery_code') throw badRequest(ErrorCodes.validationFailed, 'Recovery codes are verified with POST /factors/recovery-codes/verify');
}

export interface ChallengeResult {
  id: string;
  type: FactorType;
  expires_at: number;
}

/**
 * POST /factors/{id}/challenge. TOTP: a challenge row bound to the caller's IP. Phone: at most one per
 * GOTRUE_MFA_PHONE_MAX_FREQUENCY per factor (429 over_sms_send_rate_limit), a code of GOTRUE_MFA_PHONE_OTP_LENGTH
 * digits (a GOTRUE_SMS_TEST_OTP phone gets its fixed code and no SMS) stored hashed, sent after commit; a failed
 * send takes the challenge back. Audited as challenge_created.
 */
export async function challenge(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, factorId: string, channelInput: string | undefined): Promise<ChallengeResult> {
  assertNotAnonymous(auth);
  const factor = await loadFactor(deps, auth, factorId);
  assertVerifyEnabled(deps, factor.factor_type);
  const { mfa } = deps.config;
  const now = deps.clock.now();
  const challengeId = deps.random.uuid();
  let sms: { otp: string; test: boolean; channel: ReturnType<typeof parseChannel> } | undefined;
  if (factor.factor_type === 'phone') {
    const channel = parseChannel(deps, channelInput);
    if (factor.last_challenged_at && now.getTime() < factor.last_challenged_at.getTime() + mfa.phone.maxFrequencyMs) {
      const wait = Math.ceil((factor.last_challenged_at.getTime() + mfa.phone.maxFrequencyMs - now.getTime()) / 1000);
      throw tooManyRequests(ErrorCodes.overSmsSendRateLimit, `For security purposes, you can only request this after ${wait} seconds.`);
    }
    sms = { ...mfaSmsCode(deps, factor.phone!, mfa.phone.otpLength), channel };
    if (!sms.test && !deps.sms && !deps.hooks.enabled('send_sms')) throw unprocessable(ErrorCodes.smsSendFailed, 'Unable to send SMS: no SMS provider is configured');
  }
  await deps.db.transaction().execute(async (trx) => {
    await factors.insertChallenge(trx, { id: challengeId, factorId: factor.id, ip: challengeIp(meta), otpCode: sms ? challengeCodeHash(challengeId, sms.otp) : null, now });
    await insertAuditEntries(trx, [auditEntry(deps, meta, auth.user, 'challenge_created', { factor_id: factor.id, factor_status: factor.status })]);
  });
  if (sms && !sms.test) {
    try {
      await sendMfaSms(deps, { phone: factor.phone!, otp: sms.otp, channel: sms.channel, template: mfa.phone.template, user: auth.user });
    } catch (err) {
      // Nothing half-made: the challenge goes and the frequency limit does not count the unsent code.
      try {
        await factors.undoChallenge(deps.db, { id: challengeId, factorId: factor.id, previousChallengedAt: factor.last_challenged_at });
      } catch (undoErr) {
        deps.logger.error({ err: undoErr }, 'could not undo an MFA challenge whose SMS was not sent');
      }
      throw err;
    }
  }
  return { id: challengeId, type: factor.factor_type, expires_at: Math.floor(now.getTime() / 1000) + mfa.challengeExpirySeconds };
}

/**
 * POST /factors/{id}/verify: the verify step (verifyFactorCode) against a challenge, the session raised with its
 * refresh token swapped for an aal2 one (sessions.upgradeAal), then the tokens minted after commit.
 */
export async function verify(
  deps: Deps,
  meta: RequestMeta,
  auth: AuthenticatedUser,
  factorId: string,
  input: { challengeId: string; code: string },
): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations }> {
  const issued = await verifyFactorCode(deps, meta, auth, factorId, input, (trx, upgrade) => sessions.upgradeAal(trx, deps, upgrade));
  return { tokens: await sessions.mintTokens(deps, issued), user: issued.user };
}

/**
 * The hosted OAuth pages' TOTP form: the verify step for a TOTP factor without a challenge, the session (held by
 * reference, no tokens) raised to aal2 in place; nothing is minted. A TOTP challenge only binds the attempt to an IP
 * and an expiry, both moot when the code arrives in the request that would create the challenge; it counts no
 * attempts (a wrong code leaves it usable), so the limit on guesses is the route's (the /factors verify rate, per
 * client), with replays refused by the factor's last accepted time step as on the API.
 */
export async function verifyTotpCode(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, factorId: string, code: string): Promise<{ user: UserWithRelations }> {
  const raised = await verifyFactorCode(deps, meta, auth, factorId, { code }, (trx, upgrade) => sessions.raiseTokenlessSession(trx, deps, upgrade));
  return { user: raised.user };
}

/**
 * The verify step, GoTrue's verifyFactor less the token response. With a challenge (the API): it must be this
 * factor's (422 mfa_factor_not_found), unverified and from the caller's IP (422 mfa_ip_address_mismatch), and younger
 * than GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION (else it is deleted: 422 mfa_challenge_expired). Without one, only a
 * verified TOTP factor (a phone code lives on its challenge; enrolment completes through the API's). A wrong code is 422 mfa_verification_failed; so is a TOTP code of a
 * time step this factor already accepted (replay). The mfa_verification_attempt hook hears every attempt, right or
 * wrong; its rejection ends all the user's sessions (403). Then, in one transaction: the challenge is consumed (one
 * concurrent caller wins), the factor verified (its type's other unverified factors go), the session raised to aal2
 * in place with the factor's AMR method by `raise`, which writes the verification's audit rows. After commit the aal1
 * sessions that ended are told to their back-channel clients, and a first verification mails mfa_factor_enrolled.
 */
async function verifyFactorCode<S extends { user: UserWithRelations; ended: EndingSession[] }>(
  deps: Deps,
  meta: RequestMeta,
  auth: AuthenticatedUser,
  factorId: string,
  input: { challengeId?: string; code: string },
  raise: (trx: Executor, upgrade: sessions.UpgradeInput) => Promise<S>,
): Promise<S> {
  assertNotAnonymous(auth);
  const factor = await loadFactor(deps, auth, factorId);
  assertVerifyEnabled(deps, factor.factor_type);
  if (!auth.sessionId) throw forbidden(ErrorCodes.sessionNotFound, 'A valid session is required to verify a factor');
  const now = deps.clock.now();
  const mismatch = () => unprocessable(ErrorCodes.mfaIpAddressMismatch, 'Challenge and verify IP addresses mismatch.');
  let found: Awaited<ReturnType<typeof factors.findChallengeOfFactor>>;
  if (input.challengeId !== undefined) {
    found = await factors.findChallengeOfFactor(deps.db, factor.id, input.challengeId);
    if (!found) throw unprocessable(ErrorCodes.mfaFactorNotFound, 'MFA factor with the provided challenge ID not found');
    if (found.verified_at !== null || found.ip_address !== challengeIp(meta)) throw mismatch();
    if (now.getTime() > found.created_at.getTime() + deps.config.mfa.challengeExpirySeconds * 1000) {
      await factors.deleteChallenge(deps.db, found.id);
      throw unprocessable(ErrorCodes.mfaChallengeExpired, `MFA challenge ${found.id} has expired, verify against another challenge or create a new challenge.`);
    }
  } else if (factor.factor_type !== 'totp' || factor.status !== 'verified') {
    throw badRequest(ErrorCodes.validationFailed, 'Only a verified TOTP factor is checked without a challenge');
  }
  let totpStep: number | undefined;
  let valid: boolean;
  if (factor.factor_type === 'totp') {
    // A secret stored before a vault key was configured is read as it is.
    const secret = deps.vault.openIfSealed(factor.secret ?? '', secretContext(factor.id));
    totpStep = totpStepOf(secret, input.code, now);
    valid = totpStep !== undefined;
  } else {
    valid = !!found?.otp_code && tokensEqual(found.otp_code, challengeCodeHash(found.id, input.code));
  }
  if (deps.hooks.enabled('mfa_verification_attempt')) {
    // GoTrue asks the hook about every attempt, right or wrong, before answering; a rejection ends all the user's sessions.
    const verdict = await hooks.mfaVerificationAttempt(deps, { userId: auth.user.id, factorId: factor.id, factorType: factor.factor_type, valid, ip: meta.ip });
    if (verdict.reject) {
      deps.backchannelLogout.notify((await endSessions(deps.db, auth.user.id)).backchannel);
      throw forbidden(ErrorCodes.mfaVerificationRejected, verdict.message);
    }
  }
  if (!valid) throw unprocessable(ErrorCodes.mfaVerificationFailed, factor.factor_type === 'totp' ? 'Invalid TOTP code entered' : 'Invalid MFA Phone code entered');

  const raised = await deps.db.transaction().execute(async (trx) => {
    if (found && !(await factors.consumeChallenge(trx, found.id, now))) throw mismatch();
    if (totpStep !== undefined && !(await factors.claimTotpStep(trx, factor.id, totpStep))) {
      throw unprocessable(ErrorCodes.mfaVerificationFailed, 'Invalid TOTP code entered');
    }
    if (await factors.markFactorVerified(trx, factor.id, now)) {
      await factors.deleteUnverifiedFactors(trx, auth.user.id, { type: factor.factor_type });
    }
    const traits = { factor_id: factor.id, ...(found ? { challenge_id: found.id } : {}), factor_type: factor.factor_type };
    return raise(trx, {
      userId: auth.user.id,
      sessionId: auth.sessionId!,
      method: AMR_METHOD[factor.factor_type],
      factorId: factor.id,
      audit: [auditEntry(deps, meta, auth.user, 'verification_attempted', traits)],
    });
  });
  deps.backchannelLogout.notify(raised.ended);
  if (factor.status !== 'verified') await notify(deps, 'mfa_factor_enrolled', { to: auth.user.email ?? '', email: auth.user.email ?? '', factorType: factor.factor_type, data: auth.user.raw_user_meta_data });
  return raised;
}
