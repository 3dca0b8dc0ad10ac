import { findUserByEmail, lockUser } from '../domain/user-records';
import type { Deps } from '../deps';
import type { ApiError } from '../errors/api-error';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail } from '../domain/identifiers';
import { deliver, prepareMail } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';
import { parityTimer } from '../domain/timing-parity';

export interface RecoverInput {
  email: string;
  pkce?: PkceParams;
  redirectTo: string;
}

/**
 * POST /recover answers {} after the same work whether or not the address has an account (house rule 6): for a
 * known address the recovery token is issued in a transaction under the user's row lock; for an unknown one an
 * equivalent transaction locks nothing. The mail is then sent in the background, so the SMTP round trip does not
 * tell the two apart either; a failed send is logged and undone (the previous token and its sent_at come back), so
 * asking again works at once. A second request inside GOTRUE_SMTP_MAX_FREQUENCY is refused as GoTrue refuses it,
 * 429 over_email_send_rate_limit "For security purposes, you can only request this after N seconds.", rather than
 * a {} that sends nothing; like GoTrue's, that answer tells a caller who asks twice that the address has an account.
 * Over the server-wide GOTRUE_RATE_LIMIT_EMAIL_SENT a known address gets GoTrue's 429 too, and its token is put back.
 * The known address's transaction does more (the token, the audit row, the send count), so the unknown one then
 * waits as long as that took (timing-parity.ts).
 */
export async function recover(deps: Deps, meta: RequestMeta, input: RecoverInput): Promise<void> {
  const email = normalizeEmail(input.email);
  const user = await findUserByEmail(deps.db, email, meta.aud);
  const parity = parityTimer(deps, 'recover');
  const message = await deps.db.transaction().execute(async (trx) => {
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
  if (!message) return parity.imitate();
  try {
    // The server-wide send limit answers now (GoTrue's 429), though the mail itself leaves in the background.
    await message.countNow!();
  } catch (err) {
    await deps.db.transaction().execute((trx) => message.undo(trx));
    throw err;
  }
  parity.record();
  deliver(deps, [message]).catch((err: unknown) => deps.logger.error({ err: (err as ApiError).cause ?? err }, 'recovery mail could not be sent'));
}
