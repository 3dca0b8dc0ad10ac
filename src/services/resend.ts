import { findUserByEmail, findUserByPhone, lockUser } from '../domain/user-records';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import { prepareEmailChange, preparePhoneChange } from '../domain/contact-change';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { resendConfirmation } from '../domain/confirmations';
import { deliver, parseChannel } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';
import { parityTimer } from '../domain/timing-parity';

export const RESEND_TYPES = ['signup', 'email_change', 'sms', 'phone_change'] as const;
export type ResendType = (typeof RESEND_TYPES)[number];

export interface ResendInput {
  type: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  pkce?: PkceParams;
  redirectTo: string;
}

/**
 * POST /resend: sends the signup confirmation, SMS code, email change or phone change message again, under the
 * same throttle as the first. A no-op ({}) for an unknown user, a confirmed one (signup, sms) and a user with no
 * pending change, as GoTrue answers — and, since those send nothing, after as long as a real resend of that type
 * takes (timing-parity.ts), so the time does not tell them apart either.
 */
export async function resend(deps: Deps, meta: RequestMeta, input: ResendInput): Promise<string | undefined> {
  const { config } = deps;
  const type = input.type as ResendType;
  if (!RESEND_TYPES.includes(type)) throw badRequest(ErrorCodes.validationFailed, 'Missing one of these types: signup, email_change, sms, phone_change');
  if (!input.email && type === 'signup') throw badRequest(ErrorCodes.validationFailed, 'Type provided requires an email address');
  if (!input.phone && type === 'sms') throw badRequest(ErrorCodes.validationFailed, 'Type provided requires a phone number');
  let user: UserRow | undefined;
  if (input.email && input.phone) throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided.');
  else if (input.email) {
    if (!config.external.email.enabled) throw badRequest(ErrorCodes.emailProviderDisabled, 'Email logins are disabled');
    user = await findUserByEmail(deps.db, normalizeEmail(input.email), meta.aud);
  } else if (input.phone) {
    if (!config.external.phone.enabled) throw badRequest(ErrorCodes.phoneProviderDisabled, 'Phone logins are disabled');
    user = await findUserByPhone(deps.db, normalizePhone(input.phone), meta.aud);
  } else throw badRequest(ErrorCodes.validationFailed, 'Missing email address or phone number');
  const parity = parityTimer(deps, `resend:${type}`);
  const sent = user ? await resendTo(deps, meta, input, type, user) : 'nothing';
  if (sent === 'nothing') {
    await parity.imitate();
    return undefined;
  }
  parity.record();
  return sent;
}

/** The resend proper: the message id (undefined for mail), or 'nothing' when there is nothing to send. */
async function resendTo(deps: Deps, meta: RequestMeta, input: ResendInput, type: ResendType, user: UserRow): Promise<string | undefined | 'nothing'> {
  const ctx = { pkce: input.pkce, redirectTo: input.redirectTo, smsChannel: parseChannel(deps, undefined) };
  switch (type) {
    case 'signup':
      return user.email_confirmed_at ? 'nothing' : resendConfirmation(deps, meta, user.id, { ...ctx, via: 'email' });
    case 'sms':
      return user.phone_confirmed_at ? 'nothing' : resendConfirmation(deps, meta, user.id, { ...ctx, via: 'phone' });
    case 'email_change':
    case 'phone_change': {
      if (type === 'email_change' ? !user.email_change : !user.phone_change) return 'nothing';
      const change = await deps.db.transaction().execute(async (trx) => {
        const locked = (await lockUser(trx, user.id))!;
        const c =
          type === 'email_change'
            ? await prepareEmailChange(trx, deps, locked, locked.email_change!, ctx)
            : await preparePhoneChange(trx, deps, locked, locked.phone_change!, ctx.smsChannel);
        await insertAuditEntries(trx, [auditEntry(deps, meta, locked, 'user_modified', { resend: type })]);
        return c;
      });
      return deliver(deps, change.messages, change.undo);
    }
  }
}
