import type { TemplateKind } from './templates';

/** A rendered mail, ready for a transport. `link` and `otp` are kept apart only for the log transport. */
export interface OutgoingMail {
  kind: TemplateKind;
  to: string;
  subject: string;
  html: string;
  text: string;
  link: string | undefined;
  otp: string;
}

/** Hands rendered mail to the outside world. Failures throw MailSendError, never a raw vendor error. */
export interface MailTransport {
  readonly name: 'smtp' | 'log' | 'none' | 'memory';
  send(mail: OutgoingMail): Promise<void>;
  close?(): void;
}

/**
 * A mail could not be handed over. `reason` is a short, safe summary (an error code and the SMTP status code);
 * the server's raw response and any credentials are never copied into it.
 */
export class MailSendError extends Error {
  override name = 'MailSendError';
  readonly reason: string;
  constructor(reason: string) {
    super(`mail could not be sent (${reason})`);
    this.reason = reason;
  }
}
