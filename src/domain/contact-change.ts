import type { Executor } from '../db/database';
import { restorePendingEmailChange, restorePendingPhoneChange, updateUser } from '../db/repositories/users';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { SmsChannel } from '../sms/sms-provider';
import type { PkceParams } from './flow-state';
import { emailChangeForHook, prepareMail, prepareSms, type PreparedMessage } from './outbox';

/**
 * Email change (contract §6.3) and phone change (§6.4), the sending half: PUT /user and POST /resend record the
 * pending address and issue its token(s) here; POST/GET /verify finishes them (verify-actions.ts).
 */

export interface PreparedChange {
  messages: PreparedMessage[];
  /** Puts the user's pending-change columns and tokens back as they were. */
  undo(ex: Executor): Promise<void>;
}

/**
 * Records `newEmail` as the pending address and issues email_change_token_new (to the new address) and, with
 * secure email change and a current address, email_change_token_current (to the current one). Both mails carry
 * {{ .Email }} = current and {{ .NewEmail }} = new. `user` must be locked by the caller's transaction.
 */
export async function prepareEmailChange(
  trx: Executor,
  deps: Deps,
  user: UserRow,
  newEmail: string,
  opts: { pkce: PkceParams | undefined; redirectTo: string },
): Promise<PreparedChange> {
  const previous = await recordPendingEmailChange(trx, deps, user, newEmail);
  const pkce = opts.pkce ? { params: opts.pkce, authenticationMethod: 'email_change' } : undefined;
  const common = { user, kind: 'email_change' as const, newEmail, pkce, redirectTo: opts.redirectTo };
  const messages = [await prepareMail(trx, deps, { ...common, tokenType: 'email_change_token_new', to: newEmail, throttle: true })];
  if (deps.config.mailer.secureEmailChangeEnabled && user.email) {
    // Same flow as the first mail (either link may be the second to be followed), so no second flow_state.
    messages.push(await prepareMail(trx, deps, { ...common, tokenType: 'email_change_token_current', to: user.email, throttle: false, startsFlow: false }));
  }
  return {
    // A send email hook gets both codes in one call, as GoTrue's.
    messages: messages.length === 2 && deps.hooks.enabled('send_email') ? [emailChangeForHook(deps, user, messages[0]!, messages[1]!)] : messages,
    undo: async (ex) => {
      for (const m of [...messages].reverse()) await m.undo(ex);
      await restorePendingEmailChange(ex, user.id, newEmail, previous);
    },
  };
}

/**
 * Records `newEmail` as the user's pending address, with no confirmation counted yet; returns what it replaced, for
 * an undo. Issuing the tokens is the caller's part (prepareEmailChange mails them, generate_link hands one back).
 */
export async function recordPendingEmailChange(
  trx: Executor,
  deps: Pick<Deps, 'clock'>,
  user: UserRow,
  newEmail: string,
): Promise<Pick<UserRow, 'email_change' | 'email_change_confirm_status'>> {
  const previous = { email_change: user.email_change, email_change_confirm_status: user.email_change_confirm_status };
  await updateUser(trx, user.id, { email_change: newEmail, email_change_confirm_status: 0, updated_at: deps.clock.now() });
  return previous;
}

/** Records `newPhone` as the pending phone and issues its phone_change_token by SMS. `user` must be locked. */
export async function preparePhoneChange(trx: Executor, deps: Deps, user: UserRow, newPhone: string, channel: SmsChannel): Promise<PreparedChange> {
  const previous = { phone_change: user.phone_change };
  await updateUser(trx, user.id, { phone_change: newPhone, updated_at: deps.clock.now() });
  const message = await prepareSms(trx, deps, { user, tokenType: 'phone_change_token', phone: newPhone, channel, throttle: true });
  return {
    messages: [message],
    undo: async (ex) => {
      await message.undo(ex);
      await restorePendingPhoneChange(ex, user.id, newPhone, previous);
    },
  };
}
