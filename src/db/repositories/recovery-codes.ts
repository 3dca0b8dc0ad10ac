import type { Executor } from '../database';

/** mfa_recovery_codes: the hashed codes of a user's `recovery_code` factor. */

export async function insertRecoveryCodes(ex: Executor, rows: { id: string; factorId: string; codeHash: string }[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  await ex
    .insertInto('mfa_recovery_codes')
    .values(rows.map((r) => ({ id: r.id, factor_id: r.factorId, code_hash: r.codeHash, created_at: now, used_at: null })))
    .execute();
}

export async function deleteRecoveryCodesOfFactor(ex: Executor, factorId: string): Promise<void> {
  await ex.deleteFrom('mfa_recovery_codes').where('factor_id', '=', factorId).execute();
}

/**
 * Consumes one unused code of the factor by its hash: one UPDATE … RETURNING, so of two concurrent uses of a code
 * exactly one gets its id back (house rule 5).
 */
export async function consumeRecoveryCode(ex: Executor, factorId: string, codeHash: string, now: Date): Promise<string | undefined> {
  const row = await ex
    .updateTable('mfa_recovery_codes')
    .set({ used_at: now })
    .where('factor_id', '=', factorId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** How many codes the factor has, and how many are unused. */
export async function countRecoveryCodes(ex: Executor, factorId: string): Promise<{ total: number; remaining: number }> {
  const row = await ex
    .selectFrom('mfa_recovery_codes')
    .select((eb) => [eb.fn.countAll<string>().as('total'), eb.fn.count<string>('id').filterWhere('used_at', 'is', null).as('remaining')])
    .where('factor_id', '=', factorId)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), remaining: Number(row.remaining) };
}
