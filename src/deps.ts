import type { Logger } from 'pino';
import { createBackchannelLogout, type BackchannelLogout, type BackchannelOptions } from './domain/backchannel-logout';
import type { Config } from './config';
import { systemClock, systemRandom, type Clock, type Random } from './crypto/clock';
import { createPasswordHasher, type PasswordHasher } from './crypto/password-hasher';
import { createRefreshTokenCodec, type RefreshTokenCodec } from './crypto/refresh-token';
import { createSigner, type Signer } from './crypto/signer';
import { createTokenVault, type TokenVault } from './crypto/token-vault';
import type { DatabaseHandle, Db } from './db/database';
import { createMetadataRefusals, type MetadataRefusals } from './domain/client-metadata';
import { createRateLimitStore, type RateLimitStore } from './domain/rate-limit-store';
import { createSmsProvider } from './sms';
import type { SmsProvider } from './sms/sms-provider';
import { withTimeout } from './external/http';
import { ExternalProviders } from './external/registry';
import type { Fetch } from './external/types';
import { mailerFromConfig, type Mailer } from './mailer/mailer';
import type { MailTransport } from './mailer/transport';
import { createCaptchaVerifier, type CaptchaVerifier } from './security/captcha';
import { createPwnedPasswords, type PwnedPasswords } from './security/pwned-passwords';
import { createSafeFetch, type SafeFetch } from './security/safe-fetch';
import { createHookRunner, type HookRunner, type HookRunnerOptions } from './domain/hooks/runner';
import { noMetrics, type Metrics } from './observability/metrics';
import { meteredHasher, meteredMailer, meteredSms } from './observability/metered';

/** Everything a service may touch. Built once at start; tests build it with doubles for the outside world. */
export interface Deps {
  /** Config whose JWT secret is resolved. */
  config: Config & { jwt: Config['jwt'] & { secret: string } };
  db: Db;
  database: DatabaseHandle;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  /** Signs access tokens and verifies presented ones (GOTRUE_JWT_SECRET, GOTRUE_JWT_KEYS). */
  signer: Signer;
  refreshTokens: RefreshTokenCodec;
  /** The configured SMS vendor (GOTRUE_SMS_PROVIDER); undefined when none is set. */
  sms?: SmsProvider;
  logger: Logger;
  /** External OAuth/OIDC providers: protocol clients, discovery and JWKS caches, HTTP through `fetch`. */
  external: ExternalProviders;
  /** Seals provider tokens (and generic providers' client secrets) at rest. */
  vault: TokenVault;
  /** Renders and sends the account mails (confirmation, recovery, magic link, invite, email change, reauthentication). */
  mailer: Mailer;
  /** Rate-limit counters (GOTRUE_RATE_LIMIT_STORE): per-client request limits and the server-wide send limits. */
  rateLimitStore: RateLimitStore;
  /** Verifies CAPTCHA tokens (GOTRUE_SECURITY_CAPTCHA_*); undefined when CAPTCHA is off. */
  captcha?: CaptchaVerifier;
  /** The leaked-password range check (GOTRUE_PASSWORD_HIBP_*); undefined when it is off. */
  pwnedPasswords?: PwnedPasswords;
  /** GoTrue's auth hooks (GOTRUE_HOOK_*): HTTP endpoints signed with Standard Webhooks, or Postgres functions. */
  hooks: HookRunner;
  /** Counters and histograms for /metrics (GOTRUE_METRICS_ENABLED); noMetrics when off. */
  metrics: Metrics;
  /** Issue 15: OIDC Back-Channel Logout deliveries to OAuth clients (after commit, in the background). */
  backchannelLogout: BackchannelLogout;
  /** Issue 15 (MCP): the SSRF-guarded GET that reads Client ID Metadata Documents (GOTRUE_OAUTH_SERVER_CIMD_*). */
  clientMetadataFetch: SafeFetch;
  /** Issue 15 (MCP): documents refused lately, not fetched again for a while (in-process; see resolveMetadataClient). */
  clientMetadataRefusals: MetadataRefusals;
}

export interface DepsOverrides {
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  /** Replaces the configured vendor (tests: an adapter pointed at a stand-in, or undefined for none). */
  sms?: SmsProvider | undefined;
  /** HTTP to providers (tests may wrap it to count or fail calls). */
  fetch?: Fetch;
  mailer?: Mailer;
  /** Keeps the configured templates but hands mail to this transport. */
  mailTransport?: MailTransport;
  /** Hook limits (tests shorten GoTrue's 5 s timeout and 2 s backoff). */
  hooks?: Partial<HookRunnerOptions>;
  /** The metrics sink (serve passes the Prometheus one when GOTRUE_METRICS_ENABLED); default noMetrics. */
  metrics?: Metrics;
  /** Back-channel logout retry/backoff/timeout (tests shorten them). */
  backchannelLogout?: Partial<BackchannelOptions>;
}

/** The composition root. */
export function buildDeps(config: Config, database: DatabaseHandle, logger: Logger, o: DepsOverrides = {}): Deps {
  const secret = config.jwt.secret;
  if (!secret) throw new Error('buildDeps: the JWT secret must be resolved before the server starts');
  const clock = o.clock ?? systemClock;
  const random = o.random ?? systemRandom;
  const metrics = o.metrics ?? noMetrics;
  // With metrics on, the hasher, mailer and SMS vendor are wrapped to count and time themselves.
  const metered = <T>(adapter: T, wrap: (a: T, m: Metrics) => T): T => (metrics.enabled ? wrap(adapter, metrics) : adapter);
  const sms = 'sms' in o ? o.sms : createSmsProvider(config);
  const signer = createSigner({ ...config.jwt, secret }, clock);
  return {
    config: config as Deps['config'],
    db: database.db,
    database,
    clock,
    random,
    hasher: metered(o.hasher ?? createPasswordHasher(), meteredHasher),
    signer,
    refreshTokens: createRefreshTokenCodec(config.jwt.refreshTokenSecret ?? secret, random),
    sms: sms && metered(sms, meteredSms),
    logger,
    external: new ExternalProviders(withTimeout(o.fetch ?? globalThis.fetch), () => clock.now()),
    vault: createTokenVault(config.external.tokenVaultKeys, random),
    mailer: metered(o.mailer ?? mailerFromConfig(config, logger, clock, o.mailTransport), meteredMailer),
    rateLimitStore: createRateLimitStore(config, database, logger),
    captcha: config.captcha.enabled ? createCaptchaVerifier(config.captcha, o.fetch ?? globalThis.fetch) : undefined,
    pwnedPasswords: config.hibp.enabled ? createPwnedPasswords(config.hibp, o.fetch ?? globalThis.fetch) : undefined,
    hooks: createHookRunner({ hooks: config.hooks, db: database.db, fetch: o.fetch ?? globalThis.fetch, clock, random, logger, options: o.hooks, metrics }),
    metrics,
    backchannelLogout: createBackchannelLogout({ config, signer, clock, random, logger, fetch: o.fetch ?? globalThis.fetch, options: o.backchannelLogout }),
    clientMetadataFetch: createSafeFetch({
      timeoutMs: config.oauthServer.cimd.fetchTimeoutMs,
      maxBytes: config.oauthServer.cimd.maxBytes,
      insecureOrigins: config.oauthServer.cimd.testingOnlyInsecureOrigins,
    }),
    clientMetadataRefusals: createMetadataRefusals(),
  };
}
