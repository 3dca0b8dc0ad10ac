import type { Deps } from '../../deps';
import { notFound, unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { providersOfUser } from '../../domain/admin-users';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { normalizeEmail, normalizePhone } from '../../domain/identifiers';
import { revokeAllTokens } from '../../domain/one-time-tokens';
import type { RequestMeta } from '../../domain/request-meta';
import { findUserByEmail, findUserByPhone, findUserWithRelations, lockUser, updateUser, type UserChange, type UserWithRelations } from '../../domain/user-records';
import { endSessions } from '../../domain/user-sessions';
import type { EndingSession } from '../../domain/backchannel-logout';
import { upsertIdentity } from '../../domain/identities';
import { rethrowUniqueViolation } from '../../domain/unique-violation';
import { appMetadataWithProviders, mergeMetadata } from '../../domain/users';
import { auditActorOf, userTraits, type AdminActor } from './actor';
import { bannedUntil, parseBanDuration } from './ban';
import { assertColumnText, type AdminCreateUserInput } from './create-user';
import { encryptedPasswordFrom } from './password-input';

/**
 * PUT /admin/users/{id}: the create fields minus id and aud. Absent (or empty, for strings) = unchanged; a password
 * is checked against the policy ("" is a weak password, as in GoTrue); banDuration "none" lifts a ban.
 */
export type AdminUpdateUserInput = Omit<AdminCreateUserInput, 'id' | 'aud'>;

export const userNotFound = () => notFound(ErrorCodes.userNotFound, 'User not found');

/**
 * Updates a user as an admin, GoTrue's way: role; confirmations (email_confirmed_at / phone_confirmed_at set now);
 * a new email or phone (taken by another user → 422; the matching identity is updated or created, its *_verified
 * set to the confirm flag); metadata merged (a null value deletes its key); a new password signs the user out
 * everywhere (so does an imported password_hash); ban_duration bans from now (sign-in, refresh and every user-JWT route answer user_banned until
 * then; sessions are kept, so lifting the ban with "none" lets them refresh again). One transaction under the user's row lock, with a user_modified audit row naming the admin.
 */
export async function adminUpdateUser(
  deps: Deps,
  meta: RequestMeta,
  actor: AdminActor,
  userId: string,
  input: AdminUpdateUserInput,
): Promise<UserWithRelations> {
  const current = await findUserWithRelations(deps.db, userId);
  if (!current) throw userNotFound();
  const aud = current.aud ?? deps.config.jwt.aud;
  const email = input.email ? normalizeEmail(input.email) : undefined;
  const phone = input.phone ? normalizePhone(input.phone) : undefined;
  const role = input.role ? assertColumnText('role', input.role) : undefined;
  const ban = input.banDuration ? parseBanDuration(input.banDuration) : undefined;
  if (email) {
    const other = await findUserByEmail(deps.db, email, aud);
    if (other && other.id !== userId) throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
  }
  if (phone) {
    const other = await findUserByPhone(deps.db, phone, aud);
    if (other && other.id !== userId) throw unprocessable(ErrorCodes.phoneExists, 'Phone number already registered by another user');
  }
  const encrypted = await encryptedPasswordFrom(deps, { password: input.password, passwordHash: input.passwordHash || undefined }, { leakCheck: true });

  const now = deps.clock.now();
  let backchannel: EndingSession[] = [];
  try {
    await deps.db.transaction().execute(async (trx) => {
      const locked = await lockUser(trx, userId);
      if (!locked) throw userNotFound();
      const patch: UserChange = { updated_at: now };
      let userMetadata = locked.raw_user_meta_data ?? {};
      let appMetadata = locked.raw_app_meta_data ?? {};
      let metadataChanged = false;
      if (role !== undefined) patch.role = role;
      if (ban !== undefined) patch.banned_until = bannedUntil(now, ban);
      if (input.emailConfirm) {
        patch.email_confirmed_at = now;
        userMetadata = mergeMetadata(userMetadata, { email_verified: true });
        metadataChanged = true;
      }
      if (input.phoneConfirm) {
        patch.phone_confirmed_at = now;
        userMetadata = mergeMetadata(userMetadata, { phone_verified: true });
        metadataChanged = true;
      }
      if (encrypted !== undefined) {
        patch.encrypted_password = encrypted;
        backchannel = (await endSessions(trx, userId)).backchannel;
        await revokeAllTokens(trx, userId);
      }
      let identityAdded = false;
      if (email !== undefined) {
        identityAdded = (await upsertIdentity(trx, { user: locked, provider: 'email', data: { email, email_verified: input.emailConfirm === true }, now })).created || identityAdded;
        patch.email = email;
        if (locked.is_anonymous && input.emailConfirm) patch.is_anonymous = false;
      }
      if (phone !== undefined) {
        identityAdded = (await upsertIdentity(trx, { user: locked, provider: 'phone', data: { phone, phone_verified: input.phoneConfirm === true }, now })).created || identityAdded;
        patch.phone = phone;
        if (locked.is_anonymous && input.phoneConfirm) patch.is_anonymous = false;
      }
      if (identityAdded) {
        appMetadata = appMetadataWithProviders(appMetadata, await providersOfUser(trx, userId));
        metadataChanged = true;
      }
      if (input.appMetadata !== undefined) {
        appMetadata = mergeMetadata(appMetadata, input.appMetadata);
        metadataChanged = true;
      }
      if (input.userMetadata !== undefined) {
        userMetadata = mergeMetadata(userMetadata, input.userMetadata);
        metadataChanged = true;
      }
      if (metadataChanged) {
        patch.raw_user_meta_data = JSON.stringify(userMetadata);
        patch.raw_app_meta_data = JSON.stringify(appMetadata);
      }
      await updateUser(trx, userId, patch);
      const after = { id: userId, email: patch.email ?? locked.email, phone: patch.phone ?? locked.phone };
      await insertAuditEntries(trx, [auditEntry(deps, meta, auditActorOf(actor), 'user_modified', userTraits(after))]);
    });
  } catch (err) {
    // A concurrent call won the race past the pre-checks above.
    rethrowUniqueViolation(err);
  }
  deps.backchannelLogout.notify(backchannel);
  return (await findUserWithRelations(deps.db, userId))!;
}
