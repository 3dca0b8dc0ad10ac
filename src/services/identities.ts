import { insertAuditEntries } from '../db/repositories/audit-log';
import { deleteIdentities, listUserIdentities } from '../db/repositories/identities';
import { lockUser, updateUser } from '../db/repositories/users';
import type { Deps } from '../deps';
import { forbidden, notFound, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import type { AuthenticatedUser } from './authenticate';
import type { RequestMeta } from '../domain/request-meta';

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

/**
 * DELETE /user/identities/{id} (GoTrue's DeleteIdentity): the user keeps at least one identity. Unlinking
 * `phone` clears the phone; otherwise the email is re-derived from the identities left (an address another user
 * holds → email_conflict_identity_not_deletable). Vault tokens of the identity go with it (foreign key).
 */
export async function unlinkIdentity(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, identityId: string): Promise<void> {
  const aud = auth.claims.aud;
  if ((Array.isArray(aud) ? aud[0] : aud) !== meta.aud) throw forbidden(ErrorCodes.unexpectedAudience, "Token audience doesn't match request audience");
  const now = deps.clock.now();
  try {
    await deps.db.transaction().execute(async (trx) => {
      const user = await lockUser(trx, auth.user.id);
      if (!user) throw notFound(ErrorCodes.userNotFound, 'User not found');
      const identities = await listUserIdentities(trx, user.id);
      if (identities.length <= 1) throw unprocessable(ErrorCodes.singleIdentityNotDeletable, 'User must have at least 1 identity after unlinking');
      const target = identities.find((i) => i.id === identityId);
      if (!target) throw unprocessable(ErrorCodes.identityNotFound, "Identity doesn't exist");
      await deleteIdentities(trx, [target.id]);
      const left = identities.filter((i) => i.id !== target.id);
      const providers = [...new Set(left.map((i) => i.provider))];
      const app: Record<string, unknown> = { ...(user.raw_app_meta_data ?? {}), providers };
      if (typeof app.provider !== 'string' || !providers.includes(app.provider)) app.provider = providers[0];
      const patch: Parameters<typeof updateUser>[2] = { raw_app_meta_data: JSON.stringify(app), updated_at: now };
      if (target.provider === 'phone') patch.phone = null;
      else if (!left.some((i) => i.email && i.email === user.email?.toLowerCase())) {
        // The email came from the identity that went: fall back to the oldest remaining identity's email.
        patch.email = left.find((i) => i.email)?.email ?? null;
      }
      await updateUser(trx, user.id, patch);
      await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'identity_unlinked', { identity_id: target.id, provider: target.provider, provider_id: target.provider_id })]);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(ErrorCodes.emailConflictIdentityNotDeletable, 'Unable to unlink identity due to email conflict', { cause: err });
    throw err;
  }
}
