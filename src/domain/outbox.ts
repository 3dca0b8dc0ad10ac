import type { MailKind } from '../config/config';
import type { Executor } from '../db/database';
import { deleteUnissuedFlowStates } from '../db/repositories/flow-state';
import type { OneTimeTokenType, UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { countEmailSend, countSmsSend, isSendLimitError } from './send-limits';
import { ApiError, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import type { MailInput } from '../mailer/mailer';
import { renderSmsTemplate, type SmsChannel } from '../sms/sms-provider';
import { startFlow, type PkceParams } from './flow-state';
import { issueToken, newOtp, revertIssuedToken, testOtpFor } from './one-time-tokens';
import { generateOtp } from '../crypto/otp';
import * as hooks from './hooks';

/**
 * Mail and SMS leave after the transaction that issued their token has committed (house rule 7), never while it
 * holds locks. If a send fails, the request must leave nothing half-made, so the user can simply try again:
 * `deliver` then runs an undo in its own transaction — by default each message puts back the token it replaced
 * (with its sent_at, so no throttle blocks the retry) and drops its unissued PKCE flow; flows that created the
 * user pass an undo that deletes the just-created user instead. Then the request fails with GoTrue's error.
 */

export interface PreparedMessage {
  /** The stored token it carries. */
  tokenHash: string;
  /** Sends it; returns the SMS vendor's message id (undefined for mail and test phones). */
  send(): Promise<string | undefined>;
  /**
   * Counts it against the server-wide send limit now (429 over it), so a caller that sends in the background can
   * still answer the limit; send() then does not count it again. Mail only; absent on SMS.
   */
  countNow?(): Promise<void>;
  /** Puts back what issuing it changed. */
  undo(ex: Executor): Promise<void>;
  /** The error the request answers when the send fails. */
  failure(cause: unknown): ApiError;
  /** Mail only: what the send email hook receives for this mail. */
  emailData?: hooks.EmailData;
}

export interface EmailPkce {
  params: PkceParams;
  /** The amr method the PKCE session will carry: 'email/signup', 'magiclink', 'recovery', 'email_change'. */
  authenticationMethod: string;
}

export interface PrepareMailInput {
  /**
   * The user's row as the caller's transaction locked it (lockUser) or created it: the token is issued under that
   * lock (domain/one-time-tokens issueToken), never by locking the row again.
   */
  user: UserRow;
  kind: MailKind;
  tokenType: OneTimeTokenType;
  /** Where the mail goes (lower-cased); the token relates to it. */
  to: string;
  /** {{ .NewEmail }} (email change). */
  newEmail?: string;
  pkce?: EmailPkce | undefined;
  /** False for the second mail of one PKCE flow (email change): its token is prefixed, its flow already started. */
  startsFlow?: boolean;
  redirectTo: string;
  throttle: boolean;
}

const MAIL_FAILURE: Record<MailKind, string> = {
  confirmation: 'Error sending confirmation email',
  invite: 'Error sending invite email',
  recovery: 'Error sending recovery email',
  magic_link: 'Error sending magic link email',
  email_change: 'Error sending email change email',
  reauthentication: 'Error sending reauthentication email',
};

/** GoTrue's email_action_type of each mail, as the send email hook receives it. */
const EMAIL_ACTION_TYPE: Record<MailKind, string> = {
  confirmation: 'signup',
  invite: 'invite',
  recovery: 'recovery',
  magic_link: 'magiclink',
  email_change: 'email_change',
  reauthentication: 'reauthentication',
};

const SEND: Record<MailKind, keyof Omit<Deps['mailer'], 'transport' | 'sendNotification'>> = {
  confirmation: 'sendConfirmation',
  invite: 'sendInvite',
  recovery: 'sendRecovery',
  magic_link: 'sendMagicLink',
  email_change: 'sendEmailChange',
  reauthentication: 'sendReauthentication',
};

/** Issues the mail's token (and PKCE flow) inside `trx`; the returned message is sent after commit. */
export async function prepareMail(trx: Executor, deps: Deps, input: PrepareMailInput): Promise<PreparedMessage> {
  const flow = input.pkce && input.startsFlow !== false
    ? await startFlow(trx, deps, { userId: input.user.id, providerType: 'email', authenticationMethod: input.pkce.authenticationMethod, pkce: input.pkce.params })
    : undefined;
  const issued = await issueToken(trx, deps, {
    user: input.user,
    type: input.tokenType,
    relatesTo: input.to,
    otp: newOtp(deps, input.to),
    pkce: input.pkce !== undefined,
    throttle: input.throttle,
  });
  const mail: MailInput = {
    to: input.to,
    email: input.user.email ?? '',
    ...(input.newEmail !== undefined ? { newEmail: input.newEmail } : {}),
    otp: issued.otp,
    tokenHash: issued.tokenHash,
    redirectTo: input.redirectTo,
    data: input.user.raw_user_meta_data,
  };
  let counted = false;
  // GoTrue's EmailData; site_url is GoTrue's external URL.
  const emailData: hooks.EmailData = {
    token: issued.otp,
    token_hash: issued.tokenHash,
    redirect_to: input.redirectTo,
    email_action_type: EMAIL_ACTION_TYPE[input.kind],
    site_url: deps.config.api.externalUrl,
    token_new: '',
    token_hash_new: '',
    old_email: '',
    old_phone: '',
    provider: '',
    factor_type: '',
  };
  return {
    tokenHash: issued.tokenHash,
    emailData,
    countNow: async () => {
      await countEmailSend(deps);
      counted = true;
    },
    send: async () => {
      if (!counted) await countEmailSend(deps);
      if (deps.hooks.enabled('send_email')) {
        // The hook sends this mail instead of the mailer.
        await hooks.sendEmail(deps, { user: input.user, emailData });
        return undefined;
      }
      await deps.mailer[SEND[input.kind]](mail);
      return undefined;
    },
    undo: async (ex) => {
      await revertIssuedToken(ex, issued);
      if (flow) await deleteUnissuedFlowStates(ex, [flow.id]);
    },
    // A hook's own error (timeout, rejection, …) is the answer, as GoTrue's; a mailer failure is GoTrue's 500.
    failure: (cause) =>
      isSendLimitError(cause) || (cause instanceof ApiError && deps.hooks.enabled('send_email')) ? (cause as ApiError) : new ApiError(500, ErrorCodes.unexpectedFailure, MAIL_FAILURE[input.kind], { cause }),
  };
}

/**
 * A secure email change's two mails as the ONE send email hook call GoTrue makes, with GoTrue's (documented, odd)
 * pairing: `token` is the current address's code and `token_hash` the new address's hash; `token_new` the new
 * address's code and `token_hash_new` the current address's hash. Undo and failure stay the two mails' own.
 */
export function emailChangeForHook(deps: Deps, user: UserRow, toNew: PreparedMessage, toCurrent: PreparedMessage): PreparedMessage {
  const emailData: hooks.EmailData = {
    ...toNew.emailData!,
    token: toCurrent.emailData!.token,
    token_hash: toNew.emailData!.token_hash,
    token_new: toNew.emailData!.token,
    token_hash_new: toCurrent.emailData!.token_hash,
  };
  return {
    tokenHash: toNew.tokenHash,
    emailData,
    send: async () => {
      await countEmailSend(deps);
      await hooks.sendEmail(deps, { user, emailData });
      return undefined;
    },
    undo: async (ex) => {
      await toCurrent.undo(ex);
      await toNew.undo(ex);
    },
    failure: (cause) => toNew.failure(cause),
  };
}

/** Refuses before anything is written when an SMS would be needed and no vendor is configured. */
export function assertSmsSendable(deps: Pick<Deps, 'sms' | 'config' | 'clock' | 'hooks'>, phone: string): void {
  if (!deps.sms && !deps.hooks.enabled('send_sms') && testOtpFor(deps, phone) === undefined) {
    throw unprocessable(ErrorCodes.smsSendFailed, 'Unable to send SMS: no SMS provider is configured');
  }
}

/** GoTrue's channels; WhatsApp only through Twilio. */
export function parseChannel(deps: Pick<Deps, 'config'>, channel: string | undefined): SmsChannel {
  const c = channel ?? 'sms';
  if (c === 'sms') return c;
  if (c === 'whatsapp' && ['twilio', 'twilio_verify'].includes(deps.config.sms.provider)) return c;
  throw new ApiError(400, ErrorCodes.validationFailed, "Invalid channel, supported values are 'sms' or 'whatsapp'");
}

export interface PrepareSmsInput {
  /**
   * The user's row as the caller's transaction locked it (lockUser) or created it: the token is issued under that
   * lock (domain/one-time-tokens issueToken), never by locking the row again.
   */
  user: UserRow;
  tokenType: OneTimeTokenType;
  phone: string;
  channel: SmsChannel;
  throttle: boolean;
}

/** Issues an SMS code inside `trx`; a GOTRUE_SMS_TEST_OTP phone gets its fixed code and no SMS. */
export async function prepareSms(trx: Executor, deps: Deps, input: PrepareSmsInput): Promise<PreparedMessage> {
  assertSmsSendable(deps, input.phone);
  const issued = await issueToken(trx, deps, {
    user: input.user,
    type: input.tokenType,
    relatesTo: input.phone,
    otp: newOtp(deps, input.phone),
    pkce: false,
    throttle: input.throttle,
  });
  return {
    tokenHash: issued.tokenHash,
    send: async () => {
      if (testOtpFor(deps, input.phone) !== undefined) return undefined;
      await countSmsSend(deps);
      if (deps.hooks.enabled('send_sms')) {
        // The hook sends the code instead of the SMS provider (GoTrue's phone.go: no sms_type, no message id).
        await hooks.sendSms(deps, { user: input.user, phone: input.phone, otp: issued.otp });
        return undefined;
      }
      const body = renderSmsTemplate(deps.config.sms.template, issued.otp);
      const { messageId } = await deps.sms!.send({ to: input.phone, body, otp: issued.otp, channel: input.channel });
      return messageId;
    },
    undo: (ex) => revertIssuedToken(ex, issued),
    failure: (cause) =>
      // An adapter's own sms_send_failed (with its safe message) and the send limit's 429 pass through; anything else is wrapped.
      (cause instanceof ApiError && (cause.code === ErrorCodes.smsSendFailed || deps.hooks.enabled('send_sms'))) || isSendLimitError(cause)
        ? cause
        : unprocessable(ErrorCodes.smsSendFailed, 'Error sending SMS OTP to provider', { cause }),
  };
}

/**
 * Sends prepared messages in order, after commit. On the first failure the undo runs (the messages' own, or the
 * given one) in one transaction, and the message's failure is thrown. Returns the last SMS message id.
 */
export async function deliver(deps: Deps, messages: PreparedMessage[], undo?: (trx: Executor) => Promise<void>): Promise<string | undefined> {
  let messageId: string | undefined;
  for (const m of messages) {
    try {
      messageId = (await m.send()) ?? messageId;
    } catch (cause) {
      try {
        await deps.db.transaction().execute(async (trx) => {
          if (undo) await undo(trx);
          else for (const done of [...messages].reverse()) await done.undo(trx);
        });
      } catch (undoErr) {
        deps.logger.error({ err: undoErr }, 'could not undo the state of an unsent message');
      }
      throw m.failure(cause);
    }
  }
  return messageId;
}

/**
 * An MFA phone challenge's code: GOTRUE_SMS_TEST_OTP's fixed code for a test phone (no SMS then), else a random
 * one of `length` digits.
 */
export function mfaSmsCode(deps: Pick<Deps, 'config' | 'clock' | 'random'>, phone: string, length: number): { otp: string; test: boolean } {
  const fixed = testOtpFor(deps, phone);
  return fixed !== undefined ? { otp: fixed, test: true } : { otp: generateOtp(deps.random, length), test: false };
}

/**
 * Sends an MFA phone challenge's code (after the challenge committed): counted against GOTRUE_RATE_LIMIT_SMS_SENT,
 * rendered with `template`; a vendor failure is 422 sms_send_failed. Returns the vendor's message id.
 */
export async function sendMfaSms(deps: Deps, input: { phone: string; otp: string; channel: SmsChannel; template: string; user?: UserRow }): Promise<string> {
  if (deps.hooks.enabled('send_sms') && input.user) {
    await countSmsSend(deps);
    try {
      await hooks.sendSms(deps, { user: input.user, phone: input.phone, otp: input.otp, smsType: 'mfa' });
    } catch (cause) {
      // GoTrue's mfa.go answers any hook failure here with this one 500.
      throw new ApiError(500, ErrorCodes.unexpectedFailure, 'error invoking hook', { cause });
    }
    return '';
  }
  if (!deps.sms) throw unprocessable(ErrorCodes.smsSendFailed, 'Unable to send SMS: no SMS provider is configured');
  await countSmsSend(deps);
  try {
    const { messageId } = await deps.sms.send({ to: input.phone, body: renderSmsTemplate(input.template, input.otp), otp: input.otp, channel: input.channel });
    return messageId;
  } catch (cause) {
    throw cause instanceof ApiError && cause.code === ErrorCodes.smsSendFailed ? cause : unprocessable(ErrorCodes.smsSendFailed, 'Error sending SMS OTP to provider', { cause });
  }
}
