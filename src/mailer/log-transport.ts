import type { Logger } from 'pino';
import type { MailTransport } from './transport';

/**
 * The development default when GOTRUE_SMTP_HOST is unset: no mail leaves the machine; each mail's recipient,
 * subject, link and code are written to the log at info, so a developer can click through every flow. This is
 * the only place a link or code is ever logged, and it is never used when SMTP is configured.
 */
export function createLogTransport(logger: Logger): MailTransport {
  return {
    name: 'log',
    async send(mail) {
      logger.info(
        { mail: { kind: mail.kind, to: mail.to, subject: mail.subject, link: mail.link, code: mail.otp } },
        `mail not sent (no GOTRUE_SMTP_HOST): ${mail.subject} for ${mail.to}${mail.link ? ` ${mail.link}` : ''} code ${mail.otp}`,
      );
    },
  };
}
