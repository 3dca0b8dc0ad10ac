import type { Executor } from '../database';
import type { ChallengeRow, FactorRow, NewFactor } from '../schema';

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

/** A factor with its secret and replay state, for the MFA flows (never for a response). */
export async function findFactorRowOfUser(ex: Executor, userId: string, factorId: string): Promise<FactorRow | undefined> {
  return ex.selectFrom('mfa_factors').selectAll().where('id', '=', factorId).where('user_id', '=', userId).executeTakeFirst();
}

export async function insertFactor(ex: Executor, row: NewFactor): Promise<FactorSummary> {
  return ex.insertInto('mfa_factors').values(row).returning(FACTOR_COLUMNS).executeTakeFirstOrThrow();
}

/**
 * GoTrue's DeleteExpiredFactors, for one user: unverified factors created before `createdBefore` that were never
 * challenged. Returns how many went.
 */
export async function deleteExpiredFactorsOfUser(ex: Executor, userId: string, createdBefore: Date): Promise<number> {
  const r = await ex
    .deleteFrom('mfa_factors as f')
    .where('f.user_id', '=', userId)
    .where('f.status', '!=', 'verified')
    .where('f.created_at', '<', createdBefore)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('mfa_challenges as c').select('c.id').whereRef('c.factor_id', '=', 'f.id'))))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Deletes the user's unverified factors of one type (a verified one makes them moot), or those with this phone. */
export async function deleteUnverifiedFactors(ex: Executor, userId: string, which: { type: FactorRow['factor_type']; phone?: string }): Promise<void> {
  let q = ex.deleteFrom('mfa_factors').where('user_id', '=', userId).where('status', '=', 'unverified').where('factor_type', '=', which.type);
  if (which.phone !== undefined) q = q.where('phone', '=', which.phone);
  await q.execute();
}

/** Marks the factor verified (no-op when it already is); true when this call verified it. */
export async function markFactorVerified(ex: Executor, factorId: string, now: Date): Promise<boolean> {
  const r = await ex
    .updateTable('mfa_factors')
    .set({ status: 'verified', updated_at: now })
    .where('id', '=', factorId)
    .where('status', '=', 'unverified')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Claims a TOTP time step for the factor: succeeds only when no code of this step or a later one was accepted
 * before, so one atomic UPDATE decides between two concurrent verifications of the same code.
 */
export async function claimTotpStep(ex: Executor, factorId: string, step: number): Promise<boolean> {
  const r = await ex
    .updateTable('mfa_factors')
    .set({ last_totp_step: step })
    .where('id', '=', factorId)
    .where((eb) => eb.or([eb('last_totp_step', 'is', null), eb('last_totp_step', '<', String(step))]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** A new challenge of the factor; the factor's last_challenged_at moves to `now` in the same statement. */
export async function insertChallenge(
  ex: Executor,
  c: { id: string; factorId: string; ip: string; otpCode: string | null; now: Date },
): Promise<void> {
  await ex
    .with('touched', (db) => db.updateTable('mfa_factors').set({ last_challenged_at: c.now }).where('id', '=', c.factorId).returning('id'))
    .insertInto('mfa_challenges')
    .values({ id: c.id, factor_id: c.factorId, created_at: c.now, ip_address: c.ip, otp_code: c.otpCode })
    .execute();
}

/** A challenge only if it belongs to that factor. */
export async function findChallengeOfFactor(ex: Executor, factorId: string, challengeId: string): Promise<ChallengeRow | undefined> {
  return ex.selectFrom('mfa_challenges').selectAll().where('id', '=', challengeId).where('factor_id', '=', factorId).executeTakeFirst();
}

/** Consumes a challenge: sets verified_at if no one did. Exactly one concurrent caller gets true (house rule 5). */
export async function consumeChallenge(ex: Executor, challengeId: string, now: Date): Promise<boolean> {
  const r = await ex.updateTable('mfa_challenges').set({ verified_at: now }).where('id', '=', challengeId).where('verified_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteChallenge(ex: Executor, challengeId: string): Promise<void> {
  await ex.deleteFrom('mfa_challenges').where('id', '=', challengeId).execute();
}

/** How many factors the user has, and how many of them are verified. */
export async function countFactorsOfUser(ex: Executor, userId: string): Promise<{ total: number; verified: number }> {
  const row = await ex
    .selectFrom('mfa_factors')
    .select((eb) => [eb.fn.countAll<string>().as('total'), eb.fn.count<string>('id').filterWhere('status', '=', 'verified').as('verified')])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), verified: Number(row.verified) };
}

/** Takes back a challenge whose code could not be sent: the row goes and the factor's last_challenged_at is restored. */
export async function undoChallenge(ex: Executor, c: { id: string; factorId: string; previousChallengedAt: Date | null }): Promise<void> {
  await ex
    .with('gone', (db) => db.deleteFrom('mfa_challenges').where('id', '=', c.id).returning('id'))
    .updateTable('mfa_factors')
    .set({ last_challenged_at: c.previousChallengedAt })
    .where('id', '=', c.factorId)
    .execute();
}

/** The user's recovery-code factor (at most one), with its lockout state; `forUpdate` locks the row. */
export async function findRecoveryFactorOfUser(ex: Executor, userId: string, opts: { forUpdate?: boolean } = {}): Promise<FactorRow | undefined> {
  let q = ex.selectFrom('mfa_factors').selectAll().where('user_id', '=', userId).where('factor_type', '=', 'recovery_code');
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Verified factors of the user other than recovery codes: the factors recovery codes stand behind. */
export async function countVerifiedAuthenticators(ex: Executor, userId: string): Promise<number> {
  const row = await ex
    .selectFrom('mfa_factors')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'verified')
    .where('factor_type', '!=', 'recovery_code')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Sets a factor's wrong-attempt counter and lockout (both cleared by passing 0 and null). */
export async function setFactorAttempts(ex: Executor, factorId: string, attempts: number, lockedUntil: Date | null): Promise<void> {
  await ex.updateTable('mfa_factors').set({ failed_verify_attempts: attempts, locked_until: lockedUntil }).where('id', '=', factorId).execute();
}

/** Deletes the user's factors of one type; returns the rows that went. */
export async function deleteFactorsOfType(ex: Executor, userId: string, type: FactorRow['factor_type']): Promise<FactorSummary[]> {
  return ex.deleteFrom('mfa_factors').where('user_id', '=', userId).where('factor_type', '=', type).returning(FACTOR_COLUMNS).execute();
}
