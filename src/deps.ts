import type { Logger } from 'pino';
import type { Config } from './config';
import { systemClock, systemRandom, type Clock, type Random } from './crypto/clock';
import { createHs256Jwt, type JwtService } from './crypto/jwt';
import { createPasswordHasher, type PasswordHasher } from './crypto/password-hasher';
import { createRefreshTokenCodec, type RefreshTokenCodec } from './crypto/refresh-token';
import type { DatabaseHandle, Db } from './db/database';
import { mailerFromConfig, type Mailer } from './mailer/mailer';
import type { MailTransport } from './mailer/transport';
import type { SmsProvider } from './sms/sms-provider';

/** Everything a service may touch. Built once at start; tests build it with doubles for the outside world. */
export interface Deps {
  /** Config whose JWT secret is resolved. */
  config: Config & { jwt: Config['jwt'] & { secret: string } };
  db: Db;
  database: DatabaseHandle;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  jwt: JwtService;
  refreshTokens: RefreshTokenCodec;
  logger: Logger;
  mailer: Mailer;
  /** The SMS vendor; undefined when none is configured (phone flows then answer sms_send_failed). */
  sms: SmsProvider | undefined;
}

export interface DepsOverrides {
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  mailer?: Mailer;
  /** Keeps the configured templates but hands mail to this transport. */
  mailTransport?: MailTransport;
  sms?: SmsProvider;
}

/** The composition root. */
export function buildDeps(config: Config, database: DatabaseHandle, logger: Logger, o: DepsOverrides = {}): Deps {
  const secret = config.jwt.secret;
  if (!secret) throw new Error('buildDeps: the JWT secret must be resolved before the server starts');
  const clock = o.clock ?? systemClock;
  const random = o.random ?? systemRandom;
  return {
    config: config as Deps['config'],
    db: database.db,
    database,
    clock,
    random,
    hasher: o.hasher ?? createPasswordHasher(),
    jwt: createHs256Jwt(secret, clock, config.jwt.keyId),
    refreshTokens: createRefreshTokenCodec(secret, random),
    logger,
    mailer: o.mailer ?? mailerFromConfig(config, logger, clock, o.mailTransport),
    sms: o.sms,
  };
}
