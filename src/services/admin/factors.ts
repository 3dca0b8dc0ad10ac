import type { Deps } from '../../deps';
import { notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { deleteFactorOfUser, findFactorOfUser, listFactorsOfUser, lowerSessionsAfterFactorDeleted, updateFactor, type FactorSummary } from '../../domain/factors';
import { normalizePhone } from '../../domain/identifiers';
import type { RequestMeta } from '../../domain/request-meta';
import { findUserWithRelations } from '../../domain/user-records';
import { rethrowUniqueViolation } from '../../domain/unique-violation';
import { auditActorOf, type AdminActor } from './actor';
import { userNotFound } from './update-user';

const factorNotFound = () => notFound(ErrorCodes.mfaFactorNotFound, 'Factor not found');

async function requireUser(deps: Pick<Deps, 'db'>, userId: string) {
  const user = await findUserWithRelations(deps.db, userId);
  if (!user) throw userNotFound();
  return user;
}

/** GET /admin/users/{id}/factors */
export async function adminListFactors(deps: Pick<Deps, 'db'>, userId: string): Promise<FactorSummary[]> {
  await requireUser(deps, userId);
  return listFactorsOfUser(deps.db, userId);
}

/**
 * PUT /admin/users/{id}/factors/{factor_id}: a new friendly_name (unique per user), and a new phone for phone
 * factors (ignored for others, as GoTrue does). Audited as factor_updated.
 */
export async function adminUpdateFactor(
  deps: Deps,
  meta: RequestMeta,
  actor: AdminActor,
  userId: string,
  factorId: string,
  input: { friendlyName?: string; phone?: string },
): Promise<FactorSummary> {
  await requireUser(deps, userId);
  const factor = await findFactorOfUser(deps.db, userId, factorId);
  if (!factor) throw factorNotFound();
  const phone = input.phone && factor.factor_type === 'phone' ? normalizePhone(input.phone) : undefined;
  const now = deps.clock.now();
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const updated = await updateFactor(trx, factorId, {
        updated_at: now,
        ...(input.friendlyName ? { friendly_name: input.friendlyName } : {}),
        ...(phone ? { phone } : {}),
      });
      if (!updated) throw factorNotFound();
      const traits = { user_id: userId, factor_id: factorId, factor_type: factor.factor_type };
      await insertAuditEntries(trx, [auditEntry(deps, meta, auditActorOf(actor), 'factor_updated', traits)]);
      return updated;
    });
  } catch (err) {
    rethrowUniqueViolation(err);
  }
}

/**
 * DELETE /admin/users/{id}/factors/{factor_id}: returns the deleted factor. Audited as factor_deleted. The sessions
 * it raised drop to aal1, and every session of the user does when it was their last verified factor.
 */
export async function adminDeleteFactor(deps: Deps, meta: RequestMeta, actor: AdminActor, userId: string, factorId: string): Promise<FactorSummary> {
  await requireUser(deps, userId);
  return deps.db.transaction().execute(async (trx) => {
    const deleted = await deleteFactorOfUser(trx, userId, factorId);
    if (!deleted) throw factorNotFound();
    const orphanedCodes = await lowerSessionsAfterFactorDeleted(trx, deleted, deps.clock.now());
    await insertAuditEntries(trx, [
      auditEntry(deps, meta, auditActorOf(actor), 'factor_deleted', { user_id: userId, factor_id: factorId }),
      ...orphanedCodes.map((id) => auditEntry(deps, meta, auditActorOf(actor), 'recovery_codes_deleted', { user_id: userId, factor_id: id, reason: 'last_factor_deleted' })),
    ]);
    return deleted;
  });
}
