import pino, { type Logger } from 'pino';
import type { Config } from '../config';

/**
 * JSON logs on stdout. Redaction is a second line of defence: nothing logs headers or bodies in the first place.
 * Writes are asynchronous, so a slow stdout (a pipe to a log shipper) never blocks a request; serve flushes before
 * it exits.
 */
export function createLogger(config: Pick<Config, 'log'>): Logger {
  return pino(
    {
      level: config.log.level,
      base: { component: 'api' },
      redact: {
        paths: ['*.password', '*.refresh_token', '*.access_token', '*.authorization', '*.headers.authorization', '*.secret'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
