import type { NotificationKind } from '../config/config';
import type { Deps } from '../deps';
import type { NotificationInput } from '../mailer/mailer';
import { countEmailSend } from './send-limits';

/** A notification decided inside a flow's transaction, to send after its commit. */
export interface Notice {
  kind: NotificationKind;
  n: NotificationInput;
}

/**
 * Security notifications (GOTRUE_MAILER_NOTIFICATIONS_<KIND>_ENABLED): a mail telling the user their account changed.
 * Called after the change has committed; it never fails the request that made the change (as GoTrue: the error is
 * logged and the answer stands). It counts against GOTRUE_RATE_LIMIT_EMAIL_SENT like every mail; over the limit it
 * is not sent. No recipient (a user without email), no mail.
 */
export async function notify(deps: Pick<Deps, 'config' | 'mailer' | 'logger' | 'rateLimitStore'>, kind: NotificationKind, n: NotificationInput): Promise<void> {
  if (!deps.config.notifications.enabled[kind] || !n.to) return;
  try {
    await countEmailSend(deps);
    await deps.mailer.sendNotification(kind, n);
  } catch (err) {
    // The recipient is personal data and the reason may quote the mail server: log the kind and a safe reason only.
    deps.logger.warn({ kind, reason: err instanceof Error ? err.message : String(err) }, `security notification ${kind} was not sent`);
  }
}
