import { notify } from '../domain/notifications';
import { insertAuditEntries } from '../domain/audit';
import { lockUser } from '../domain/user-records';
import type { Deps } from '../deps';
import { forbidden, notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import type { RequestMeta } from '../domain/request-meta';
import { removeIdentity } from '../domain/users';

/**
 * DELETE /user/identities/{id} (GoTrue's DeleteIdentity): the identity goes under the user's row lock, by the
 * rule of users.removeIdentity (at least one identity stays; the email or phone follows; an email conflict is
 * email_conflict_identity_not_deletable). Vault tokens of the identity go with it (foreign key).
 */
export async function unlinkIdentity(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, identityId: string): Promise<void> {
  const aud = auth.claims.aud;
  if ((Array.isArray(aud) ? aud[0] : aud) !== meta.aud) throw forbidden(ErrorCodes.unexpectedAudience, "Token audience doesn't match request audience");
  const notice = await deps.db.transaction().execute(async (trx) => {
    const user = await lockUser(trx, auth.user.id);
    if (!user) throw notFound(ErrorCodes.userNotFound, 'User not found');
    const target = await removeIdentity(trx, deps, user, identityId);
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'identity_unlinked', { identity_id: target.id, provider: target.provider, provider_id: target.provider_id })]);
    // To the address the user had before: removing an identity may move another identity's email onto the user.
    const to = user.email ?? '';
    return { to, email: to, provider: target.provider, data: user.raw_user_meta_data };
  });
  await notify(deps, 'identity_unlinked', notice);
}
