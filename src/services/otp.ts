import { findUserByEmail, findUserByPhone, lockUser } from '../domain/user-records';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries, type AuditEntry } from '../domain/audit';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { announceNewUser, createUser, deleteUnsentNewUser, vetNewUser } from '../domain/users';
import { prepareConfirmation, resendConfirmation } from '../domain/confirmations';
import { assertSmsSendable, deliver, parseChannel, prepareMail, type PreparedMessage } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';

/**
 * POST /otp and POST /magiclink (contract §1.3). A confirmed user gets a magic link (email) or a code (SMS); an
 * unknown user is signed up first (unless create_user is false: 422 otp_disabled) and gets the confirmation
 * instead, which signs them in just the same; an unconfirmed one gets the confirmation again.
 */

export interface EmailOtpInput {
  email: string;
  createUser: boolean;
  data?: Record<string, unknown>;
  pkce?: PkceParams;
  redirectTo: string;
}

const otpSignupsRefused = () => unprocessable(ErrorCodes.otpDisabled, 'Signups not allowed for otp');

/** The magic link mail for a user the transaction locked or created, issued in `trx` (recovery_token, as GoTrue keeps it). */
function prepareMagicLink(trx: Parameters<typeof prepareMail>[0], deps: Deps, user: UserRow, pkce: PkceParams | undefined, redirectTo: string, throttle: boolean) {
  return prepareMail(trx, deps, {
    user,
    kind: 'magic_link',
    tokenType: 'recovery_token',
    to: user.email!,
    pkce: pkce ? { params: pkce, authenticationMethod: 'magiclink' } : undefined,
    redirectTo,
    throttle,
  });
}

export async function emailOtp(deps: Deps, meta: RequestMeta, input: EmailOtpInput): Promise<void> {
  const { config } = deps;
  if (!config.external.email.enabled) throw unprocessable(ErrorCodes.emailProviderDisabled, 'Email logins are disabled');
  if (!config.external.email.magicLinkEnabled) throw unprocessable(ErrorCodes.emailProviderDisabled, 'Login with magic link is disabled');
  const email = normalizeEmail(input.email);
  const autoconfirm = config.mailer.autoconfirm;
  const user = await findUserByEmail(deps.db, email, meta.aud);
  const ctx = { via: 'email' as const, pkce: input.pkce, redirectTo: input.redirectTo, smsChannel: 'sms' as const };

  if (!user) {
    if (!input.createUser) throw otpSignupsRefused();
    if (config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');
    // A new user without a password: the confirmation (or, with autoconfirm, the magic link) signs them in.
    const newUser = await vetNewUser(deps, meta, { channel: { kind: 'email', email, confirmed: autoconfirm }, userMetadata: input.data ?? {} });
    const made = await deps.db.transaction().execute(async (trx) => {
      const { user: created } = await createUser(trx, deps, meta, newUser);
      const audits: AuditEntry[] = [];
      let message: PreparedMessage;
      if (autoconfirm) {
        audits.push(auditEntry(deps, meta, created, 'user_signedup', { provider: 'email' }), auditEntry(deps, meta, created, 'user_recovery_requested'));
        message = await prepareMagicLink(trx, deps, created, input.pkce, input.redirectTo, false);
      } else {
        audits.push(auditEntry(deps, meta, created, 'user_confirmation_requested', { provider: 'email' }));
        message = await prepareConfirmation(trx, deps, created, ctx, false);
      }
      await insertAuditEntries(trx, audits);
      return { created, message, auditIds: audits.map((a) => a.id) };
    });
    const column = autoconfirm ? 'recovery_token' : 'confirmation_token';
    await deliver(deps, [made.message], (trx) => deleteUnsentNewUser(trx, made.created.id, { column, token: made.message.tokenHash }, made.auditIds));
    await announceNewUser(deps, meta, made.created);
    return;
  }

  if (!user.email_confirmed_at && !autoconfirm) {
    await resendConfirmation(deps, meta, user.id, ctx);
    return;
  }
  const message = await deps.db.transaction().execute(async (trx) => {
    const locked = (await lockUser(trx, user.id))!;
    const m = await prepareMagicLink(trx, deps, locked, input.pkce, input.redirectTo, true);
    await insertAuditEntries(trx, [auditEntry(deps, meta, locked, 'user_recovery_requested')]);
    return m;
  });
  await deliver(deps, [message]);
}

export interface PhoneOtpInput {
  phone: string;
  createUser: boolean;
  data?: Record<string, unknown>;
  channel?: string;
}

/** POST /otp {phone}: a code by SMS; returns the vendor's message id. */
export async function phoneOtp(deps: Deps, meta: RequestMeta, input: PhoneOtpInput): Promise<string | undefined> {
  const { config } = deps;
  if (!config.external.phone.enabled) throw badRequest(ErrorCodes.phoneProviderDisabled, 'Unsupported phone provider');
  const phone = normalizePhone(input.phone);
  const channel = parseChannel(deps, input.channel);
  assertSmsSendable(deps, phone);
  const user = await findUserByPhone(deps.db, phone, meta.aud);
  const ctx = { via: 'phone' as const, pkce: undefined, redirectTo: config.siteUrl, smsChannel: channel };

  if (!user) {
    if (!input.createUser) throw otpSignupsRefused();
    if (config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');
    const autoconfirm = config.sms.autoconfirm;
    const newUser = await vetNewUser(deps, meta, { channel: { kind: 'phone', phone, confirmed: autoconfirm }, userMetadata: input.data ?? {} });
    const made = await deps.db.transaction().execute(async (trx) => {
      const { user: created } = await createUser(trx, deps, meta, newUser);
      const audits = [auditEntry(deps, meta, created, autoconfirm ? 'user_signedup' : 'user_confirmation_requested', { provider: 'phone' })];
      const message = await prepareConfirmation(trx, deps, created, ctx, false);
      await insertAuditEntries(trx, audits);
      return { created, message, auditIds: audits.map((a) => a.id) };
    });
    const messageId = await deliver(deps, [made.message], (trx) => deleteUnsentNewUser(trx, made.created.id, { column: 'confirmation_token', token: made.message.tokenHash }, made.auditIds));
    await announceNewUser(deps, meta, made.created);
    return messageId;
  }

  return resendConfirmation(deps, meta, user.id, ctx);
}
