import type { Executor } from '../db/database';
import { countFactorsOfUser, countVerifiedAuthenticators, deleteFactorsOfType } from '../db/repositories/factors';
import { downgradeSessions } from '../db/repositories/sessions';
import type { FactorRow } from '../db/schema';

/**
 * A user's MFA factors and their challenges: the admin API sees them (never their secrets) — listed, found,
 * renamed, deleted; the /factors flows enrol, challenge and verify them. Plain table access, so the repository's
 * functions are the domain's; the rules that span tables are below.
 */
export {
  claimTotpStep,
  consumeChallenge,
  countFactorsOfUser,
  countVerifiedAuthenticators,
  deleteChallenge,
  deleteExpiredFactorsOfUser,
  deleteFactorOfUser,
  deleteFactorsOfUser,
  deleteUnverifiedFactors,
  findChallengeOfFactor,
  findFactorOfUser,
  findFactorRowOfUser,
  findRecoveryFactorOfUser,
  insertChallenge,
  insertFactor,
  listFactorsOfUser,
  markFactorVerified,
  setFactorAttempts,
  undoChallenge,
  updateFactor,
  type FactorSummary,
} from '../db/repositories/factors';
export { consumeRecoveryCode, countRecoveryCodes, deleteRecoveryCodesOfFactor, insertRecoveryCodes } from '../db/repositories/recovery-codes';

export type FactorType = FactorRow['factor_type'];

/** The `amr` method a verified factor of each type adds to a session, as GoTrue names them. */
export const AMR_METHOD: Record<FactorType, string> = { totp: 'totp', phone: 'mfa/phone', webauthn: 'mfa/webauthn', recovery_code: 'mfa/recovery_code' };

/** The vault context binding a sealed TOTP secret to its factor row. */
export const secretContext = (factorId: string) => `mfa_factors.secret:${factorId}`;

/**
 * After a factor is deleted (by its user or an admin): the sessions it raised lose its AMR method and drop to aal1
 * (GoTrue's DowngradeSessionsToAAL1); when the user has no verified factor left, every session of theirs does.
 * Recovery codes are never a user's only factor: when the last verified authenticator goes, they go too; returns
 * the ids of recovery-code factors that went so (for the caller's audit row).
 */
export async function lowerSessionsAfterFactorDeleted(ex: Executor, factor: Pick<FactorRow, 'id' | 'user_id' | 'factor_type'>, now: Date): Promise<string[]> {
  await downgradeSessions(ex, factor.user_id, { factorId: factor.id, amrMethods: [AMR_METHOD[factor.factor_type]] }, now);
  const orphanedCodes: string[] = [];
  if (factor.factor_type !== 'recovery_code' && (await countVerifiedAuthenticators(ex, factor.user_id)) === 0) {
    for (const codes of await deleteFactorsOfType(ex, factor.user_id, 'recovery_code')) {
      await downgradeSessions(ex, factor.user_id, { factorId: codes.id, amrMethods: [AMR_METHOD.recovery_code] }, now);
      orphanedCodes.push(codes.id);
    }
  }
  const { verified } = await countFactorsOfUser(ex, factor.user_id);
  if (verified === 0) await downgradeSessions(ex, factor.user_id, { amrMethods: Object.values(AMR_METHOD) }, now);
  return orphanedCodes;
}
