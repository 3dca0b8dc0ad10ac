import type { LinkMailKind } from '../../config/config';
import type { Executor } from '../../db/database';
import { findUserByEmail, findUserWithRelations, lockUser, updateUser, type UserWithRelations } from '../../domain/user-records';
import type { OneTimeTokenType, UserRow } from '../../db/schema';
import type { Deps } from '../../deps';
import { badRequest, notFound, unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { confirmationUrl } from '../../mailer/mailer';
import { auditEntry, insertAuditEntries, type AuditEntry } from '../../domain/audit';
import { recordPendingEmailChange } from '../../domain/contact-change';
import { normalizeEmail } from '../../domain/identifiers';
import { issueToken, newOtp, revokeTokens } from '../../domain/one-time-tokens';
import { assertAcceptablePassword } from '../../domain/password-policy';
import type { RequestMeta } from '../../domain/request-meta';
import { rethrowUniqueViolation } from '../../domain/unique-violation';
import { announceNewUser, createUser, mergeMetadata, vetNewUser } from '../../domain/users';
import { auditActorOf, userTraits, type AdminActor } from './actor';

/**
 * POST /admin/generate_link (contract §1.9): issues the token a mail of that kind would carry — stored exactly as
 * the mail flows store it (hashed, in its users column and in one_time_tokens), in one transaction with its audit
 * row — and hands the link, code and hash to the admin instead of mailing them. No mail, no send throttle.
 */

export const GENERATE_LINK_TYPES = ['signup', 'invite', 'magiclink', 'recovery', 'email_change_current', 'email_change_new'] as const;
export type GenerateLinkType = (typeof GENERATE_LINK_TYPES)[number];

export interface GenerateLinkInput {
  type: GenerateLinkType;
  email: string;
  newEmail?: string | undefined;
  /** signup only: the new user's password. */
  password?: string | undefined;
  /** Merged into user_metadata (signup, invite, and a magic link that becomes a signup). */
  data?: Record<string, unknown> | undefined;
  /** Already validated (contract §6.7). */
  redirectTo: string;
}

export interface GeneratedLink {
  user: UserWithRelations;
  actionLink: string;
  emailOtp: string;
  hashedToken: string;
  /** GoTrue answers the type it acted on: a magic link for an unknown address is reported as signup. */
  verificationType: GenerateLinkType;
  redirectTo: string;
}

/** The token each type issues and the mail whose link it would ride in (same URL path, same `type=`). */
const ISSUES: Record<GenerateLinkType, { token: OneTimeTokenType; kind: LinkMailKind }> = {
  signup: { token: 'confirmation_token', kind: 'confirmation' },
  invite: { token: 'confirmation_token', kind: 'invite' },
  magiclink: { token: 'recovery_token', kind: 'magic_link' },
  recovery: { token: 'recovery_token', kind: 'recovery' },
  email_change_current: { token: 'email_change_token_current', kind: 'email_change' },
  email_change_new: { token: 'email_change_token_new', kind: 'email_change' },
};

const emailExists = () => unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');

/**
 * GoTrue's semantics: signup creates an unconfirmed user with the password (or refreshes an unconfirmed one's
 * metadata); invite creates an invited user or re-invites an unconfirmed one; magiclink for an unknown address
 * becomes a signup without password; recovery and email changes need the user (404 user_not_found). A confirmed
 * address is 422 email_exists for signup and invite.
 */
export async function generateLink(deps: Deps, meta: RequestMeta, actor: AdminActor, input: GenerateLinkInput): Promise<GeneratedLink> {
  const email = normalizeEmail(input.email);
  const existing = await findUserByEmail(deps.db, email, meta.aud);
  let type = input.type;
  if (!existing && type === 'magiclink') type = 'signup';
  if (!existing && (type === 'recovery' || type === 'email_change_current' || type === 'email_change_new')) {
    throw notFound(ErrorCodes.userNotFound, 'User with this email not found');
  }
  if (existing?.email_confirmed_at && (type === 'signup' || type === 'invite')) throw emailExists();

  let encrypted: string | null = null;
  if (type === 'signup' && !existing && input.type === 'signup') {
    if (!input.password) throw unprocessable(ErrorCodes.validationFailed, 'Signup requires a valid password');
    assertAcceptablePassword(deps.config.password, input.password);
    encrypted = await deps.hasher.hash(input.password);
  }
  let newEmail: string | undefined;
  if (type === 'email_change_current' || type === 'email_change_new') {
    if (type === 'email_change_current' && !deps.config.mailer.secureEmailChangeEnabled) {
      throw badRequest(ErrorCodes.validationFailed, 'Enable secure email change to generate link for current email');
    }
    newEmail = normalizeEmail(input.newEmail ?? '');
    const taken = await findUserByEmail(deps.db, newEmail, meta.aud);
    if (taken || newEmail === email) throw emailExists();
  }

  const { token, kind } = ISSUES[type];
  const newUser = existing ? undefined : await vetNewUser(deps, meta, { channel: { kind: 'email', email, confirmed: false }, encryptedPassword: encrypted, userMetadata: input.data ?? {}, invited: type === 'invite' });
  let made: { userId: string; otp: string; tokenHash: string };
  try {
    made = await deps.db.transaction().execute(async (trx) => {
      const audits: AuditEntry[] = [];
      let user: UserRow;
      if (!existing) {
        ({ user } = await createUser(trx, deps, meta, newUser!));
      } else {
        // Locked: the token replaces the previous one of its kind, as a concurrent send would.
        const locked = await lockUser(trx, existing.id);
        if (!locked) throw notFound(ErrorCodes.userNotFound, 'User with this email not found');
        user = locked;
        if (user.email_confirmed_at && (type === 'signup' || type === 'invite')) throw emailExists();
        if ((type === 'signup' || type === 'invite') && input.data !== undefined) {
          await updateUser(trx, user.id, { raw_user_meta_data: JSON.stringify(mergeMetadata(user.raw_user_meta_data, input.data)), updated_at: deps.clock.now() });
        }
        if (type === 'invite') await updateUser(trx, user.id, { invited_at: deps.clock.now() });
      }
      if (newEmail !== undefined) audits.push(await setUpEmailChange(trx, deps, meta, actor, user, newEmail, token));
      else audits.push(auditFor(deps, meta, actor, user, type));
      const relatesTo = type === 'email_change_new' ? newEmail! : email;
      const issued = await issueToken(trx, deps, { user, type: token, relatesTo, otp: newOtp(deps, relatesTo), pkce: false, throttle: false });
      await insertAuditEntries(trx, audits);
      return { userId: user.id, otp: issued.otp, tokenHash: issued.tokenHash };
    });
  } catch (err) {
    // A concurrent sign-up for the address won the race past the pre-check.
    rethrowUniqueViolation(err);
  }
  const user = (await findUserWithRelations(deps.db, made.userId))!;
  if (!existing) await announceNewUser(deps, meta, user);
  return {
    user,
    actionLink: confirmationUrl(deps.config, kind, made.tokenHash, input.redirectTo),
    emailOtp: made.otp,
    hashedToken: made.tokenHash,
    verificationType: type,
    redirectTo: input.redirectTo,
  };
}

/** The audit row GoTrue's mail flow of the same kind writes (an invite names the admin). */
function auditFor(deps: Deps, meta: RequestMeta, actor: AdminActor, user: UserRow, type: GenerateLinkType): AuditEntry {
  if (type === 'invite') return auditEntry(deps, meta, auditActorOf(actor), 'user_invited', { user_id: user.id, user_email: user.email });
  if (type === 'signup') return auditEntry(deps, meta, user, 'user_confirmation_requested', { provider: 'email' });
  return auditEntry(deps, meta, user, 'user_recovery_requested');
}

/**
 * Records the pending address as PUT /user does. A different pending change is replaced, and the other side's
 * token, which belonged to it, is revoked; for the same pending change the other side's token is kept, so an admin
 * can generate both links of a secure change (two calls) and both must then be confirmed.
 */
async function setUpEmailChange(
  trx: Executor,
  deps: Deps,
  meta: RequestMeta,
  actor: AdminActor,
  user: UserRow,
  newEmail: string,
  side: OneTimeTokenType,
): Promise<AuditEntry> {
  if (user.email_change !== newEmail) {
    await recordPendingEmailChange(trx, deps, user, newEmail);
    await revokeTokens(trx, user.id, [side === 'email_change_token_new' ? 'email_change_token_current' : 'email_change_token_new']);
  }
  return auditEntry(deps, meta, auditActorOf(actor), 'user_modified', { ...userTraits(user), requested: 'email_change' });
}
