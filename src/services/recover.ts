import { findUserByEmail, lockUser } from '../domain/user-records';
import type { Deps } from '../deps';
import { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail } from '../domain/identifiers';
import { deliver, prepareMail, type PreparedMessage } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';

export interface RecoverInput {
  email: string;
  pkce?: PkceParams;
  redirectTo: string;
}

/**
 * POST /recover: always answers {} after the same work, whether or not the address has an account (house rule
 * 6). For a known address the recovery token is issued in a transaction under the user's row lock; for an unknown
 * one an equivalent transaction locks nothing. The mail is then sent in the background, so the SMTP round trip
 * does not tell the two apart either; a failed send is logged and undone (the previous token and its sent_at come
 * back), so asking again works at once. A request inside GOTRUE_SMTP_MAX_FREQUENCY is answered {} too, sending
 * nothing: unlike GoTrue, whose 429 there reveals that the account exists.
 */
export async function recover(deps: Deps, meta: RequestMeta, input: RecoverInput): Promise<void> {
  const email = normalizeEmail(input.email);
  const user = await findUserByEmail(deps.db, email, meta.aud);
  let message: PreparedMessage | undefined;
  try {
    message = await deps.db.transaction().execute(async (trx) => {
      const locked = await lockUser(trx, user?.id ?? deps.random.uuid());
      if (!locked) return undefined;
      const m = await prepareMail(trx, deps, {
        user: locked,
        kind: 'recovery',
        tokenType: 'recovery_token',
        to: email,
        pkce: input.pkce ? { params: input.pkce, authenticationMethod: 'recovery' } : undefined,
        redirectTo: input.redirectTo,
        throttle: true,
      });
      await insertAuditEntries(trx, [auditEntry(deps, meta, locked, 'user_recovery_requested')]);
      return m;
    });
  } catch (err) {
    const throttled = err instanceof ApiError && err.code === ErrorCodes.overEmailSendRateLimit;
    if (!throttled) throw err;
  }
  if (message) {
    deliver(deps, [message]).catch((err: unknown) => deps.logger.error({ err: (err as ApiError).cause ?? err }, 'recovery mail could not be sent'));
  }
}
