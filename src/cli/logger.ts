import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config';
import { DEV_MAIL_HEADER } from '../mailer/log-transport';
import { traceFields } from '../observability/trace-context';

type LogSettings = { log: { level: Config['log']['level']; format?: Config['log']['format'] }; tracing?: { enabled: boolean } };

/**
 * Logs on stdout: JSON (one object a line, for log shippers) unless GOTRUE_LOG_FORMAT=pretty, or it is unset and
 * stdout is a terminal, when lines are human-readable (pino-pretty, coloured on a terminal). Redaction is a second
 * line of defence: nothing logs headers or bodies in the first place. JSON writes are asynchronous, so a slow
 * stdout (a pipe to a log shipper) never blocks a request; serve flushes before it exits. Pretty writes are
 * synchronous: a person is reading them, and nothing is lost at exit.
 */
export function createLogger(config: LogSettings, stdoutIsTty = process.stdout.isTTY === true): Logger {
  const options = {
    level: config.log.level,
    base: { component: 'api' },
    redact: {
      paths: ['*.password', '*.refresh_token', '*.access_token', '*.authorization', '*.headers.authorization', '*.secret'],
      censor: '[redacted]',
    },
    // With GOTRUE_TRACING_ENABLED each line inside a traced request carries its trace_id and span_id.
    ...(config.tracing?.enabled ? { mixin: traceFields } : {}),
  };
  return pino(options, logFormat(config, stdoutIsTty) === 'pretty' ? prettyStream(stdoutIsTty) : pino.destination({ dest: 1, sync: false }));
}

/** GOTRUE_LOG_FORMAT when set, else pretty on a terminal and JSON anywhere else. */
export function logFormat(config: LogSettings, stdoutIsTty: boolean): 'json' | 'pretty' {
  return config.log.format ?? (stdoutIsTty ? 'pretty' : 'json');
}

function prettyStream(colorize: boolean): DestinationStream {
  return pretty({
    destination: 1,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    // Shown in the message instead (messageFormat); pid, hostname and component say nothing to a person at a terminal.
    ignore: 'pid,hostname,component,mail,dev_mail,req,res,responseTime,startup_warning',
    messageFormat: (log, messageKey, _level, { colors }) => {
      const message = String(log[messageKey] ?? '');
      const mail = log.mail as { kind?: string; to?: string; subject?: string; link?: string; code?: string } | undefined;
      if (log.dev_mail === true && mail) {
        return [
          colors.bold(colors.magenta(`✉  ${DEV_MAIL_HEADER}`)),
          `     ${colors.bold(mail.subject ?? mail.kind ?? 'mail')} → ${mail.to ?? ''}`,
          ...(mail.link ? [`     open: ${colors.cyan(colors.underline(mail.link))}`] : []),
          ...(mail.code ? [`     code: ${colors.bold(mail.code)}`] : []),
        ].join('\n');
      }
      const req = log.req as { method?: string; path?: string } | undefined;
      const res = log.res as { statusCode?: number } | undefined;
      if (req && res) {
        const ms = typeof log.responseTime === 'number' ? ` ${log.responseTime} ms` : '';
        return `${req.method ?? ''} ${req.path ?? ''} → ${res.statusCode ?? ''}${ms}`;
      }
      return log.startup_warning === true ? colors.yellow(message) : message;
    },
  });
}
