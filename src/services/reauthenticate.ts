import { lockUser } from '../domain/user-records';
import type { Deps } from '../deps';
import { badRequest, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { AuthenticatedUser } from '../domain/authenticate';
import { assertSmsSendable, deliver, prepareMail, prepareSms } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';

/**
 * GET /reauthenticate: sends a nonce (a one-time code, reauthentication_token) to the user's confirmed email, or
 * else their confirmed phone, for a password change under REQUIRE_REAUTHENTICATION. Returns the SMS message id.
 */
export async function reauthenticate(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser): Promise<string | undefined> {
  const { user } = auth;
  const email = user.email || undefined;
  const phone = user.phone || undefined;
  if (!email && !phone) throw badRequest(ErrorCodes.validationFailed, 'Reauthentication requires the user to have an email or a phone number');
  if (email && !user.email_confirmed_at) throw unprocessable(ErrorCodes.emailNotConfirmed, 'Please verify your email first.');
  if (!email && !user.phone_confirmed_at) throw unprocessable(ErrorCodes.phoneNotConfirmed, 'Please verify your phone first.');
  if (!email) assertSmsSendable(deps, phone!);
  const message = await deps.db.transaction().execute(async (trx) => {
    const locked = (await lockUser(trx, user.id))!;
    const m = email
      ? await prepareMail(trx, deps, { user: locked, kind: 'reauthentication', tokenType: 'reauthentication_token', to: email, redirectTo: deps.config.siteUrl, throttle: true })
      : await prepareSms(trx, deps, { user: locked, tokenType: 'reauthentication_token', phone: phone!, channel: 'sms', throttle: true });
    await insertAuditEntries(trx, [auditEntry(deps, meta, locked, 'user_reauthenticate')]);
    return m;
  });
  return deliver(deps, [message]);
}
