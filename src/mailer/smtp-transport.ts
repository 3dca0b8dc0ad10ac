import type { Transporter } from 'nodemailer';
import { MailSendError, type MailTransport } from './transport';

export interface SmtpOptions {
  host: string;
  port: number;
  user: string | undefined;
  pass: string | undefined;
  from: { name: string; address: string };
}

/** A short, safe reason for a nodemailer failure: its error code and the SMTP status, never the raw response. */
function safeReason(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown; command?: unknown };
  const parts = [typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'ESEND'];
  if (typeof e.responseCode === 'number') parts.push(`SMTP ${e.responseCode}`);
  if (typeof e.command === 'string' && /^[A-Z ]{2,20}$/.test(e.command)) parts.push(`at ${e.command}`);
  return parts.join(', ');
}

/**
 * SMTP through nodemailer. Port 465 speaks TLS from the first byte; any other port starts in plain text and
 * upgrades with STARTTLS whenever the server offers it (nodemailer's default), verifying the certificate.
 */
export function createSmtpTransport(o: SmtpOptions): MailTransport {
  // nodemailer is imported at the first send, not at startup (it is among the slowest modules to load).
  let transporter: Promise<Transporter> | undefined;
  const open = () =>
    (transporter ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: o.host,
        port: o.port,
        secure: o.port === 465,
        ...(o.user ? { auth: { user: o.user, pass: o.pass ?? '' } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      }),
    ));
  return {
    name: 'smtp',
    async send(mail) {
      try {
        await (await open()).sendMail({ from: o.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text });
      } catch (err) {
        throw new MailSendError(safeReason(err));
      }
    },
    close: () => void transporter?.then((t) => t.close()),
  };
}
