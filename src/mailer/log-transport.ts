import type { Logger } from 'pino';
import type { MailTransport } from './transport';

/** How a dev mail's log line begins, so it stands out in JSON and pretty logs alike. */
export const DEV_MAIL_HEADER = 'DEV MAIL, not sent (log transport: embedded database without GOTRUE_SMTP_HOST, for development only)';

/**
 * The development default on the embedded database when GOTRUE_SMTP_HOST is unset: no mail leaves the machine;
 * each mail's recipient, subject, link and code are written to the log at info, so a developer can click through
 * every flow. This is the only place a link or code is ever logged. It is never used when SMTP is configured, nor
 * on Postgres (a deployment), where a forgotten SMTP host must not put working links into the logs.
 */
export function createLogTransport(logger: Logger): MailTransport {
  return {
    name: 'log',
    async send(mail) {
      // One line that stands out in either format; the pretty format (cli/logger.ts) lays it out as a block.
      logger.info(
        { dev_mail: true, mail: { kind: mail.kind, to: mail.to, subject: mail.subject, link: mail.link, code: mail.otp } },
        `${DEV_MAIL_HEADER}: "${mail.subject}" to ${mail.to}${mail.link ? ` | open ${mail.link}` : ''} ${mail.otp ? ` | code ${mail.otp}` : ''}`,
      );
    },
  };
}

/**
 * Postgres without GOTRUE_SMTP_HOST: mail is dropped, as GoTrue does without an SMTP host, with a warning that
 * names the kind and recipient but never the link or code.
 */
export function createDropTransport(logger: Logger): MailTransport {
  return {
    name: 'none',
    async send(mail) {
      logger.warn({ mail: { kind: mail.kind, to: mail.to } }, `mail not sent: GOTRUE_SMTP_HOST is not set (${mail.kind} for ${mail.to})`);
    },
  };
}
