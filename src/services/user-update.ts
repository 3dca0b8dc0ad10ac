import { insertAuditEntries } from '../db/repositories/audit-log';
import { deleteSessions } from '../db/repositories/sessions';
import { findUserWithRelations, lockUser, updateUser, type UserWithRelations } from '../db/repositories/users';
import type { JsonObject } from '../db/schema';
import type { Deps } from '../deps';
import { forbidden, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from './audit';
import type { AuthenticatedUser } from './authenticate';
import { normalizeEmail, normalizePhone } from './identifiers';
import { assertAcceptablePassword } from './password-policy';
import type { RequestMeta } from './request-meta';

export interface UserUpdateInput {
  email?: string;
  phone?: string;
  password?: string;
  data?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
}

/** GoTrue's metadata merge: top-level keys are set, a null value deletes its key. */
export function mergeMetadata(current: JsonObject | null, update: Record<string, unknown>): JsonObject {
  const out: JsonObject = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * PUT /user: password, user_metadata (`data`) and, for users whose role is the admin group, app_metadata.
 * A new password signs out every other session of the user. One transaction under the user's row lock.
 */
export async function updateCurrentUser(
  deps: Deps,
  meta: RequestMeta,
  auth: AuthenticatedUser,
  input: UserUpdateInput,
): Promise<UserWithRelations> {
  const { user } = auth;
  if (input.app_metadata !== undefined && user.role !== deps.config.jwt.adminGroupName) {
    throw forbidden(ErrorCodes.notAdmin, 'Updating app_metadata requires admin privileges');
  }
  const emailChange = input.email !== undefined && input.email !== '' && normalizeEmail(input.email) !== (user.email ?? '');
  const phoneChange = input.phone !== undefined && input.phone !== '' && normalizePhone(input.phone) !== (user.phone ?? '');
  if (emailChange || phoneChange) {
    // Changing the address needs the confirmation mail/SMS flows, which this server does not have yet.
    throw unprocessable(ErrorCodes.validationFailed, 'Changing the email address or phone number is not supported by this server yet');
  }

  let encrypted: string | undefined;
  if (input.password !== undefined) {
    if (user.is_anonymous && !user.email && !user.phone) {
      throw unprocessable(ErrorCodes.validationFailed, 'Updating password of an anonymous user without an email or phone is not allowed');
    }
    assertAcceptablePassword(deps.config.password, input.password);
    if ((await deps.hasher.verify(user.encrypted_password, input.password)).valid) {
      throw unprocessable(ErrorCodes.samePassword, 'New password should be different from the old password.');
    }
    encrypted = await deps.hasher.hash(input.password);
  }

  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const locked = (await lockUser(trx, user.id))!;
    const patch: Parameters<typeof updateUser>[2] = { updated_at: now };
    if (input.data !== undefined) patch.raw_user_meta_data = JSON.stringify(mergeMetadata(locked.raw_user_meta_data, input.data));
    if (input.app_metadata !== undefined) patch.raw_app_meta_data = JSON.stringify(mergeMetadata(locked.raw_app_meta_data, input.app_metadata));
    if (encrypted !== undefined) patch.encrypted_password = encrypted;
    await updateUser(trx, user.id, patch);
    const audits = [];
    if (encrypted !== undefined) {
      await deleteSessions(trx, user.id, auth.sessionId ? { except: auth.sessionId } : {});
      audits.push(auditEntry(deps, meta, locked, 'user_updated_password'));
    }
    if (input.data !== undefined || input.app_metadata !== undefined) audits.push(auditEntry(deps, meta, locked, 'user_modified'));
    await insertAuditEntries(trx, audits);
  });
  return (await findUserWithRelations(deps.db, user.id))!;
}
