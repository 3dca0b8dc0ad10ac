import { newRecoveryCode, normalizeRecoveryCode, recoveryCodeHash } from '../../crypto/recovery-codes';
import type { Deps } from '../../deps';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import type { AuthenticatedUser } from '../../domain/authenticate';
import * as factors from '../../domain/factors';
import { AMR_METHOD } from '../../domain/factors';
import type { RequestMeta } from '../../domain/request-meta';
import * as sessions from '../../domain/sessions';
import { lockUser, type UserWithRelations } from '../../domain/user-records';
import type { Executor } from '../../db/database';
import { forbidden, notFound, tooManyRequests, unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { assertNotAnonymous } from '../../services/mfa';

/**
 * MFA recovery codes — the server side of auth-js's experimental `mfa.recoveryCodes` (GoTrue has none), as its type
 * documentation states the contract:
 * - a user holds at most one set, a factor of type `recovery_code`, verified from birth, named `Recovery codes`
 *   unless the caller names it (names are unique per user, as for every factor);
 * - generating (and regenerating, deleting) needs an aal2 session (403 insufficient_aal); generating also needs
 *   another verified factor (422 mfa_recovery_codes_sole_factor) and no existing set (422
 *   mfa_verified_factor_exists); when the user's last other verified factor goes, the set goes with it;
 * - RECOVERY_CODE_COUNT codes, returned once in canonical form, stored as hashes only;
 * - verifying consumes one code atomically, upgrades the calling session in place to aal2 with
 *   `mfa/recovery_code` in `amr` (the user's other aal1 sessions end, as after any MFA verification); a wrong or
 *   used code is 422 mfa_verification_failed, and GOTRUE_MFA_RECOVERY_CODES_MAX_ATTEMPTS wrong codes in a row lock
 *   verification for GOTRUE_MFA_RECOVERY_CODES_LOCKOUT_DURATION (429 mfa_recovery_codes_locked);
 * - GOTRUE_MFA_RECOVERY_CODES_ENROLL_ENABLED / _VERIFY_ENABLED switch them (422 mfa_recovery_codes_*_not_enabled).
 * Every change is one transaction with its audit row.
 */

export const RECOVERY_CODE_COUNT = 10;
const DEFAULT_NAME = 'Recovery codes';

export interface RecoveryCodesStatus {
  id: string;
  type: 'recovery_code';
  total: number;
  remaining: number;
}

export interface GeneratedRecoveryCodes {
  id: string;
  type: 'recovery_code';
  friendly_name: string;
  total: number;
  codes: string[];
}

const noRecoveryCodes = () => notFound(ErrorCodes.mfaFactorNotFound, 'No recovery codes found for this user');
const wrongCode = () => unprocessable(ErrorCodes.mfaVerificationFailed, 'Invalid recovery code entered');

function assertEnrollEnabled(deps: Deps): void {
  if (!deps.config.mfa.recoveryCodes.enrollEnabled) throw unprocessable(ErrorCodes.mfaRecoveryCodesEnrollNotEnabled, 'MFA recovery codes are disabled');
}

async function assertAal2(trx: Executor, auth: AuthenticatedUser, action: string): Promise<void> {
  if ((await sessions.sessionAal(trx, auth.user.id, auth.sessionId)) !== 'aal2') throw forbidden(ErrorCodes.insufficientAal, `AAL2 required to ${action} recovery codes`);
}

/** A new set of codes for the factor, written as hashes; the plaintext is returned for the one response that shows it. */
async function writeNewCodes(trx: Executor, deps: Deps, factorId: string, now: Date): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(deps.random));
  await factors.insertRecoveryCodes(
    trx,
    codes.map((code) => ({ id: deps.random.uuid(), factorId, codeHash: recoveryCodeHash(factorId, code) })),
    now,
  );
  return codes;
}

/** GET /factors/recovery-codes: the set's size and unused count, at any AAL; 404 mfa_factor_not_found without one. */
export async function status(deps: Deps, auth: AuthenticatedUser): Promise<RecoveryCodesStatus> {
  assertNotAnonymous(auth);
  const factor = await factors.findRecoveryFactorOfUser(deps.db, auth.user.id);
  if (!factor) throw noRecoveryCodes();
  const counts = await factors.countRecoveryCodes(deps.db, factor.id);
  return { id: factor.id, type: 'recovery_code', ...counts };
}

/** POST /factors/recovery-codes {friendly_name?}: the user's first set (see the module comment for the rules). */
export async function generate(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, friendlyName: string | undefined): Promise<GeneratedRecoveryCodes> {
  assertEnrollEnabled(deps);
  assertNotAnonymous(auth);
  const name = friendlyName?.trim() || DEFAULT_NAME;
  const { user } = auth;
  const factorId = deps.random.uuid();
  const now = deps.clock.now();
  const codes = await deps.db.transaction().execute(async (trx) => {
    await lockUser(trx, user.id);
    const current = await factors.listFactorsOfUser(trx, user.id);
    if (!current.some((f) => f.status === 'verified' && f.factor_type !== 'recovery_code')) {
      throw unprocessable(ErrorCodes.mfaRecoveryCodesSoleFactor, 'Recovery codes need another verified factor: verify a TOTP or phone factor first');
    }
    await assertAal2(trx, auth, 'generate');
    if (current.some((f) => f.factor_type === 'recovery_code')) {
      throw unprocessable(ErrorCodes.mfaVerifiedFactorExists, 'Recovery codes already exist for this user, regenerate them to get a new set');
    }
    if (current.some((f) => (f.friendly_name ?? '') === name)) {
      throw unprocessable(ErrorCodes.mfaFactorNameConflict, `A factor with the friendly name "${name}" for this user already exists`);
    }
    const { mfa } = deps.config;
    if (current.length >= mfa.maxEnrolledFactors || current.filter((f) => f.status === 'verified').length >= mfa.maxVerifiedFactors) {
      throw unprocessable(ErrorCodes.tooManyEnrolledMfaFactors, 'Maximum number of verified factors reached, unenroll to continue');
    }
    await factors.insertFactor(trx, {
      id: factorId,
      user_id: user.id,
      friendly_name: name,
      factor_type: 'recovery_code',
      status: 'verified',
      created_at: now,
      updated_at: now,
      secret: null,
      phone: null,
    });
    const fresh = await writeNewCodes(trx, deps, factorId, now);
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'generate_recovery_codes', { factor_id: factorId, total: fresh.length })]);
    return fresh;
  });
  return { id: factorId, type: 'recovery_code', friendly_name: name, total: codes.length, codes };
}

/** POST /factors/recovery-codes/regenerate: a new set in the same factor (id and name kept); the old codes and any lockout end. */
export async function regenerate(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser): Promise<GeneratedRecoveryCodes> {
  assertEnrollEnabled(deps);
  assertNotAnonymous(auth);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const factor = await factors.findRecoveryFactorOfUser(trx, auth.user.id, { forUpdate: true });
    if (!factor) throw noRecoveryCodes();
    await assertAal2(trx, auth, 'regenerate');
    await factors.deleteRecoveryCodesOfFactor(trx, factor.id);
    await factors.setFactorAttempts(trx, factor.id, 0, null);
    const codes = await writeNewCodes(trx, deps, factor.id, now);
    await factors.updateFactor(trx, factor.id, { updated_at: now });
    await insertAuditEntries(trx, [auditEntry(deps, meta, auth.user, 'generate_recovery_codes', { factor_id: factor.id, total: codes.length, regenerated: true })]);
    return { id: factor.id, type: 'recovery_code' as const, friendly_name: factor.friendly_name ?? DEFAULT_NAME, total: codes.length, codes };
  });
}

/** DELETE /factors/recovery-codes: the factor and its codes go; sessions a code raised drop to aal1 (as any unenrol). */
export async function remove(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser): Promise<{ id: string }> {
  assertNotAnonymous(auth);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const factor = await factors.findRecoveryFactorOfUser(trx, auth.user.id, { forUpdate: true });
    if (!factor) throw noRecoveryCodes();
    await assertAal2(trx, auth, 'delete');
    await factors.deleteFactorOfUser(trx, auth.user.id, factor.id);
    await insertAuditEntries(trx, [auditEntry(deps, meta, auth.user, 'recovery_codes_deleted', { factor_id: factor.id, session_id: auth.sessionId ?? null })]);
    await factors.lowerSessionsAfterFactorDeleted(trx, factor, now);
    return { id: factor.id };
  });
}

type VerifyOutcome = { ok: true; issued: Awaited<ReturnType<typeof sessions.upgradeAal>> } | { ok: false; locked: boolean };

/**
 * POST /factors/recovery-codes/verify {code}. Under the factor's row lock (so wrong attempts count exactly and a
 * lockout cannot be raced): a locked factor is 429; else one UPDATE … RETURNING consumes the code. A miss counts
 * (committed, then 422), a hit resets the count and upgrades the session; tokens are minted after commit.
 */
export async function verify(
  deps: Deps,
  meta: RequestMeta,
  auth: AuthenticatedUser,
  rawCode: string,
): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations }> {
  const rc = deps.config.mfa.recoveryCodes;
  if (!rc.verifyEnabled) throw unprocessable(ErrorCodes.mfaRecoveryCodesVerifyNotEnabled, 'MFA verification is disabled for recovery codes');
  assertNotAnonymous(auth);
  if (!auth.sessionId) throw forbidden(ErrorCodes.sessionNotFound, 'A valid session is required to verify a recovery code');
  const sessionId = auth.sessionId;
  const code = normalizeRecoveryCode(rawCode);
  const now = deps.clock.now();
  const outcome = await deps.db.transaction().execute(async (trx): Promise<VerifyOutcome> => {
    const factor = await factors.findRecoveryFactorOfUser(trx, auth.user.id, { forUpdate: true });
    if (!factor) throw wrongCode();
    if (factor.locked_until && factor.locked_until.getTime() > now.getTime()) return { ok: false, locked: true };
    const used = code === '' ? undefined : await factors.consumeRecoveryCode(trx, factor.id, recoveryCodeHash(factor.id, code), now);
    if (!used) {
      const attempts = (factor.locked_until ? 0 : factor.failed_verify_attempts) + 1;
      const lock = attempts >= rc.maxAttempts;
      await factors.setFactorAttempts(trx, factor.id, lock ? 0 : attempts, lock ? new Date(now.getTime() + rc.lockoutMs) : null);
      return { ok: false, locked: false };
    }
    await factors.setFactorAttempts(trx, factor.id, 0, null);
    const traits = { factor_id: factor.id, factor_type: 'recovery_code' };
    const issued = await sessions.upgradeAal(trx, deps, {
      userId: auth.user.id,
      sessionId,
      method: AMR_METHOD.recovery_code,
      factorId: factor.id,
      audit: [auditEntry(deps, meta, auth.user, 'verification_attempted', traits)],
    });
    return { ok: true, issued };
  });
  if (!outcome.ok) {
    if (outcome.locked) throw tooManyRequests(ErrorCodes.mfaRecoveryCodesLocked, 'Too many failed recovery code attempts, try again later or use another factor');
    throw wrongCode();
  }
  deps.backchannelLogout.notify(outcome.issued.ended);
  const tokens = await sessions.mintTokens(deps, outcome.issued);
  return { tokens, user: outcome.issued.user };
}
