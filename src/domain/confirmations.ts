import type { Executor } from '../db/database';
import { insertAuditEntries } from '../db/repositories/audit-log';
import { lockUser } from '../db/repositories/users';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { SmsChannel } from '../sms/sms-provider';
import { auditEntry } from './audit';
import type { PkceParams } from './flow-state';
import { deliver, prepareMail, prepareSms, type PreparedMessage } from './outbox';
import type { RequestMeta } from './request-meta';

/**
 * The confirmation of an address (contract §6.1): the signup mail (confirmation_token, link and code) or the SMS
 * code, shared by signup, /otp, /resend and an external sign-in with an unverified provider email. Its token is
 * issued under the user's row lock, so the per-user throttle (GOTRUE_SMTP_MAX_FREQUENCY, GOTRUE_SMS_MAX_FREQUENCY)
 * holds under concurrency; the message leaves after commit, and a failed send puts the previous token back.
 */

export interface SendContext {
  /** Which address the confirmation goes to. */
  via: 'email' | 'phone';
  pkce: PkceParams | undefined;
  redirectTo: string;
  smsChannel: SmsChannel;
}

/**
 * Issues the confirmation mail or SMS in `trx`; `user` is the row the transaction locked or created (the token is
 * issued under that lock). Throttled unless it is the first.
 */
export async function prepareConfirmation(trx: Executor, deps: Deps, user: UserRow, ctx: SendContext, throttle: boolean): Promise<PreparedMessage> {
  if (ctx.via === 'email') {
    return prepareMail(trx, deps, {
      user,
      kind: 'confirmation',
      tokenType: 'confirmation_token',
      to: user.email!,
      pkce: ctx.pkce ? { params: ctx.pkce, authenticationMethod: 'email/signup' } : undefined,
      redirectTo: ctx.redirectTo,
      throttle,
    });
  }
  return prepareSms(trx, deps, { user, tokenType: 'confirmation_token', phone: user.phone!, channel: ctx.smsChannel, throttle });
}

/**
 * Sends the confirmation again (a repeated signup, /otp, /resend, a provider sign-in): its own transaction under
 * the user's row lock (the throttle) with its audit row, then the send; a failed send puts the previous token back.
 * A code to a phone that is already confirmed signs in, and is audited as GoTrue files it: a recovery request.
 * Returns the SMS vendor's message id.
 */
export async function resendConfirmation(deps: Deps, meta: RequestMeta, userId: string, ctx: SendContext): Promise<string | undefined> {
  const message = await deps.db.transaction().execute(async (trx) => {
    const user = (await lockUser(trx, userId))!;
    const m = await prepareConfirmation(trx, deps, user, ctx, true);
    const confirmed = ctx.via === 'email' ? user.email_confirmed_at : user.phone_confirmed_at;
    const action = confirmed ? 'user_recovery_requested' : 'user_confirmation_requested';
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, action, { provider: ctx.via })]);
    return m;
  });
  return deliver(deps, [message]);
}
