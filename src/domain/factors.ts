/**
 * A user's MFA factors as the admin API sees them (never their secrets): listed, found, renamed or re-numbered,
 * deleted. Plain table access with no rule of its own, so the repository's functions are the domain's.
 */
export {
  deleteFactorOfUser,
  deleteFactorsOfUser,
  findFactorOfUser,
  listFactorsOfUser,
  updateFactor,
  type FactorSummary,
} from '../db/repositories/factors';
