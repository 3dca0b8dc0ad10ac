import pino, { type Logger } from 'pino';
import type { Config } from '../config';

/**
 * JSON logs on stdout. Redaction is a second line of defence: nothing logs headers or bodies in the first place.
 */
export function createLogger(config: Pick<Config, 'log'>): Logger {
  return pino({
    level: config.log.level,
    base: { component: 'api' },
    redact: {
      paths: ['*.password', '*.refresh_token', '*.access_token', '*.authorization', '*.headers.authorization', '*.secret'],
      censor: '[redacted]',
    },
  });
}
