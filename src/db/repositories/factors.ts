import type { Executor } from '../database';
import type { FactorRow } from '../schema';

/** The columns a Factor response shows (never the secret). */
const FACTOR_COLUMNS = [
  'id',
  'user_id',
  'friendly_name',
  'factor_type',
  'status',
  'phone',
  'created_at',
  'updated_at',
  'last_challenged_at',
  'web_authn_aaguid',
] as const;

export type FactorSummary = Pick<FactorRow, (typeof FACTOR_COLUMNS)[number]>;

export async function listFactorsOfUser(ex: Executor, userId: string): Promise<FactorSummary[]> {
  return ex.selectFrom('mfa_factors').select(FACTOR_COLUMNS).where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
}

/** A factor only if it belongs to that user. */
export async function findFactorOfUser(ex: Executor, userId: string, factorId: string): Promise<FactorSummary | undefined> {
  return ex.selectFrom('mfa_factors').select(FACTOR_COLUMNS).where('id', '=', factorId).where('user_id', '=', userId).executeTakeFirst();
}

export async function updateFactor(
  ex: Executor,
  factorId: string,
  patch: { friendly_name?: string; phone?: string; updated_at: Date },
): Promise<FactorSummary | undefined> {
  return ex.updateTable('mfa_factors').set(patch).where('id', '=', factorId).returning(FACTOR_COLUMNS).executeTakeFirst();
}

/** Deletes one factor of the user (its challenges go by cascade); returns the row that was deleted. */
export async function deleteFactorOfUser(ex: Executor, userId: string, factorId: string): Promise<FactorSummary | undefined> {
  return ex.deleteFrom('mfa_factors').where('id', '=', factorId).where('user_id', '=', userId).returning(FACTOR_COLUMNS).executeTakeFirst();
}

export async function deleteFactorsOfUser(ex: Executor, userId: string): Promise<void> {
  await ex.deleteFrom('mfa_factors').where('user_id', '=', userId).execute();
}
