import { findUserByEmail, findUserByPhone, findUserWithRelations, lockUser, updateUser, type UserWithRelations } from '../domain/user-records';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, forbidden, unauthorized, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import { prepareEmailChange, preparePhoneChange, type PreparedChange } from '../domain/contact-change';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { consumeToken, findTokenByOtp, isTokenExpired, type MatchedToken } from '../domain/one-time-tokens';
import { assertSmsSendable, deliver, parseChannel } from '../domain/outbox';
import { assertStrongPassword } from '../domain/password-policy';
import { notify } from '../domain/notifications';
import type { RequestMeta } from '../domain/request-meta';
import { sessionAal } from '../domain/sessions';
import { endSessions, isRecoverySession, sessionCreatedAt } from '../domain/user-sessions';
import type { EndingSession } from '../domain/backchannel-logout';
import { mergeMetadata } from '../domain/users';
import { applyEmailChange, applyPhoneChange } from '../domain/verify-actions';

export interface UserUpdateInput {
  email?: string;
  phone?: string;
  password?: string;
  data?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  /** The code from GET /reauthenticate (GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION). */
  nonce?: string;
  /** The password now held (GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD). */
  currentPassword?: string;
  channel?: string;
  pkce?: PkceParams;
  /** Where the email change link lands (validated). */
  redirectTo?: string;
}

/** Sessions younger than this change the password without a nonce (GoTrue's rule). */
const REAUTHENTICATION_WINDOW_MS = 24 * 3600_000;

/**
 * PUT /user. An email or phone change is recorded and its confirmation sent first, in its own transaction (a
 * failed send undoes it, and nothing else of the request is written); then password, user_metadata (`data`) and,
 * for users whose role is the admin group, app_metadata change in one transaction under the user's row lock.
 * Everything is validated before anything is written. A new password signs out every other session; with
 * REQUIRE_REAUTHENTICATION it needs, in a session older than 24 h, the nonce from GET /reauthenticate.
 */
export async function updateCurrentUser(
  deps: Deps,
  meta: RequestMeta,
  auth: AuthenticatedUser,
  input: UserUpdateInput,
): Promise<UserWithRelations> {
  const { user } = auth;
  const { config } = deps;
  if (input.app_metadata !== undefined && user.role !== config.jwt.adminGroupName) {
    throw forbidden(ErrorCodes.notAdmin, 'Updating app_metadata requires admin privileges');
  }
  const newEmail = input.email ? normalizeEmail(input.email) : undefined;
  const emailChange = newEmail !== undefined && newEmail !== (user.email ?? '') ? newEmail : undefined;
  const newPhone = input.phone ? normalizePhone(input.phone) : undefined;
  const phoneChange = newPhone !== undefined && newPhone !== (user.phone ?? '') ? newPhone : undefined;
  const mfaEnabled = user.factors.some((f) => f.status === 'verified');
  if (mfaEnabled && (input.password || emailChange || phoneChange) && (await sessionAal(deps.db, user.id, auth.sessionId)) !== 'aal2') {
    // GoTrue answers this one 401 (UserUpdate), unlike the /factors gates.
    throw unauthorized(ErrorCodes.insufficientAal, 'AAL2 session is required to update email or password when MFA is enabled.');
  }
  if (emailChange && phoneChange) throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided');
  if (emailChange) {
    const taken = await findUserByEmail(deps.db, emailChange, meta.aud);
    if (taken && taken.id !== user.id) throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
  }
  const channel = phoneChange ? parseChannel(deps, input.channel) : 'sms';
  if (phoneChange) {
    if (!config.external.phone.enabled) throw badRequest(ErrorCodes.phoneProviderDisabled, 'Phone logins are disabled');
    const taken = await findUserByPhone(deps.db, phoneChange, meta.aud);
    if (taken && taken.id !== user.id) throw unprocessable(ErrorCodes.phoneExists, 'A user with this phone number has already been registered');
    if (!config.sms.autoconfirm) assertSmsSendable(deps, phoneChange);
  }

  let encrypted: string | undefined;
  let nonce: MatchedToken | undefined;
  if (input.password !== undefined) {
    if (user.is_anonymous && !user.email && !user.phone && !emailChange && !phoneChange) {
      throw unprocessable(ErrorCodes.validationFailed, 'Updating password of an anonymous user without an email or phone is not allowed');
    }
    await assertStrongPassword(deps, input.password);
    nonce = await reauthenticationNonce(deps, meta, auth, input.nonce);
    await assertCurrentPassword(deps, auth, input);
    if ((await deps.hasher.verify(user.encrypted_password, input.password)).valid) {
      throw unprocessable(ErrorCodes.samePassword, 'New password should be different from the old password.');
    }
    encrypted = await deps.hasher.hash(input.password);
  }

  if (emailChange || phoneChange) await changeContact(deps, meta, user, { emailChange, phoneChange, channel, pkce: input.pkce, redirectTo: input.redirectTo ?? config.siteUrl });

  const now = deps.clock.now();
  const changesProfile = encrypted !== undefined || input.data !== undefined || input.app_metadata !== undefined;
  if (changesProfile) {
    const ended = await deps.db.transaction().execute(async (trx) => {
      const locked = (await lockUser(trx, user.id))!;
      if (nonce && !(await consumeToken(trx, nonce))) throw reauthenticationNotValid();
      const patch: Parameters<typeof updateUser>[2] = { updated_at: now };
      if (input.data !== undefined) patch.raw_user_meta_data = JSON.stringify(mergeMetadata(locked.raw_user_meta_data, input.data));
      if (input.app_metadata !== undefined) patch.raw_app_meta_data = JSON.stringify(mergeMetadata(locked.raw_app_meta_data, input.app_metadata));
      if (encrypted !== undefined) patch.encrypted_password = encrypted;
      await updateUser(trx, user.id, patch);
      const audits = [];
      let backchannel: EndingSession[] = [];
      if (encrypted !== undefined) {
        backchannel = (await endSessions(trx, user.id, auth.sessionId ? { except: auth.sessionId } : {})).backchannel;
        audits.push(auditEntry(deps, meta, locked, 'user_updated_password'));
      }
      if (input.data !== undefined || input.app_metadata !== undefined) audits.push(auditEntry(deps, meta, locked, 'user_modified'));
      await insertAuditEntries(trx, audits);
      return backchannel;
    });
    deps.backchannelLogout.notify(ended);
    if (encrypted !== undefined) await notify(deps, 'password_changed', { to: user.email ?? '', email: user.email ?? '', data: user.raw_user_meta_data });
  }
  return (await findUserWithRelations(deps.db, user.id))!;
}

/**
 * GoTrue's current-password rule: with REQUIRE_CURRENT_PASSWORD, a new (non-empty) password for a user who has one
 * needs `current_password`, outside a recovery session: missing → 400 current_password_required, wrong → 400
 * current_password_invalid (GoTrue gives both the same message). Checked after the reauthentication rule, as GoTrue.
 */
async function assertCurrentPassword(deps: Deps, auth: AuthenticatedUser, input: UserUpdateInput): Promise<void> {
  const { user } = auth;
  if (!deps.config.security.updatePasswordRequireCurrentPassword || !input.password || !user.encrypted_password) return;
  if (auth.sessionId && (await isRecoverySession(deps.db, auth.sessionId))) return;
  const message = 'Current password required when setting new password.';
  if (!input.currentPassword) throw badRequest(ErrorCodes.currentPasswordRequired, message);
  if (!(await deps.hasher.verify(user.encrypted_password, input.currentPassword)).valid) throw badRequest(ErrorCodes.currentPasswordInvalid, message);
}

const reauthenticationNotValid = () => unprocessable(ErrorCodes.reauthenticationNotValid, 'Requires reauthentication');

/**
 * GoTrue's rule: with REQUIRE_REAUTHENTICATION, a password change in a session created more than 24 h ago needs
 * the nonce; missing → 400 reauthentication_needed, wrong or expired → 422 reauthentication_not_valid. Returns
 * the token to consume with the change (undefined when none is needed).
 */
async function reauthenticationNonce(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, given: string | undefined): Promise<MatchedToken | undefined> {
  if (!deps.config.security.updatePasswordRequireReauthentication) return undefined;
  const created = auth.sessionId ? (await sessionCreatedAt(deps.db, auth.sessionId))?.getTime() : undefined;
  if (created !== undefined && deps.clock.now().getTime() - created <= REAUTHENTICATION_WINDOW_MS) return undefined;
  if (!given) throw badRequest(ErrorCodes.reauthenticationNeeded, 'Password update requires reauthentication');
  const { user } = auth;
  const identifier = user.email || user.phone;
  if (!identifier) throw reauthenticationNotValid();
  const match = await findTokenByOtp(deps, meta.aud, identifier, given.trim(), ['reauthentication_token']);
  if (!match || match.user.id !== user.id || isTokenExpired(deps, match)) throw reauthenticationNotValid();
  return match;
}

/**
 * Records the pending email or phone and sends its confirmation(s); a failed send undoes it. An anonymous user
 * with autoconfirm (email), or any user with SMS autoconfirm (phone), gets the new address at once, as in GoTrue.
 */
async function changeContact(
  deps: Deps,
  meta: RequestMeta,
  user: UserRow,
  c: { emailChange?: string; phoneChange?: string; channel: ReturnType<typeof parseChannel>; pkce: PkceParams | undefined; redirectTo: string },
): Promise<void> {
  const immediate = c.emailChange ? deps.config.mailer.autoconfirm && user.is_anonymous : deps.config.sms.autoconfirm;
  const change = await deps.db.transaction().execute(async (trx): Promise<PreparedChange | undefined> => {
    const locked = (await lockUser(trx, user.id))!;
    const ctx = { trx, deps, meta };
    if (immediate) {
      const audits = c.emailChange
        ? await applyEmailChange(ctx, { ...locked, email_change: c.emailChange }, 'email_change_token_new')
        : await applyPhoneChange(ctx, { ...locked, phone_change: c.phoneChange! });
      if (audits !== 'pending') await insertAuditEntries(trx, audits);
      return undefined;
    }
    const prepared = c.emailChange
      ? await prepareEmailChange(trx, deps, locked, c.emailChange, { pkce: c.pkce, redirectTo: c.redirectTo })
      : await preparePhoneChange(trx, deps, locked, c.phoneChange!, c.channel);
    await insertAuditEntries(trx, [auditEntry(deps, meta, locked, 'user_modified', { requested: c.emailChange ? 'email_change' : 'phone_change' })]);
    return prepared;
  });
  if (change) await deliver(deps, change.messages, change.undo);
}
