import { z } from 'zod';
import { parseGoBool, parseGoDuration, parseList, parseRequiredCharacters, parseRfc3339, parseTestOtp } from './parsers';
import { BUILTIN_PROVIDERS, providerEnvKey, type BuiltinProviderName, type ProviderEnvKey } from './providers';
import { parseRate } from './rate';

/** Optional env string: unset and empty both mean "use the default". */
const str = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const bool = (dflt: boolean) =>
  str().transform((v, ctx) => {
    if (v === undefined) return dflt;
    const b = parseGoBool(v);
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a boolean (true/false/1/0), got "${v}"` });
      return z.NEVER;
    }
    return b;
  });

const int = (dflt: number, min = 0) =>
  str().transform((v, ctx) => {
    if (v === undefined) return dflt;
    if (!/^-?\d+$/.test(v) || Number(v) < min) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number ≥ ${min}, got "${v}"` });
      return z.NEVER;
    }
    return Number(v);
  });

const num = (dflt: number) =>
  str().transform((v, ctx) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a non-negative number, got "${v}"` });
      return z.NEVER;
    }
    return n;
  });

/** A Go duration, in milliseconds. */
const duration = (dflt: string) =>
  str().transform((v, ctx) => {
    const ms = parseGoDuration(v ?? dflt);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 90s or 1h30m, got "${v}"` });
      return z.NEVER;
    }
    return ms;
  });

const list = (dflt: string[]) => str().transform((v) => (v === undefined ? dflt : parseList(v)));

const url = () =>
  str().refine((v) => v === undefined || URL.canParse(v), { message: 'expected an absolute URL' });

/** The SMS vendors GOTRUE_SMS_PROVIDER may name. */
export const SMS_PROVIDERS = ['twilio', 'twilio_verify', 'messagebird', 'textlocal', 'vonage'] as const;

const smsProvider = str().refine((v) => v === undefined || (SMS_PROVIDERS as readonly string[]).includes(v), {
  message: `expected one of ${SMS_PROVIDERS.join(', ')}`,
});

const testOtp = str().transform((v, ctx) => {
  if (v === undefined) return {};
  const r = parseTestOtp(v);
  if ('problem' in r) {
    ctx.addIssue({ code: 'custom', message: r.problem });
    return z.NEVER;
  }
  return r.otps;
});

const timestamp = () =>
  str().transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ms = parseRfc3339(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 time such as 2030-01-01T00:00:00Z, got "${v}"` });
      return z.NEVER;
    }
    return ms;
  });

/** Where rate-limit counters live (GOTRUE_RATE_LIMIT_STORE). */
export const RATE_LIMIT_STORES = ['memory', 'postgres', 'redis'] as const;

/** GoTrue's rate syntax: events per hour, or events/duration (see rate.ts). */
const rate = (dflt: string) =>
  str().transform((v, ctx) => {
    const r = parseRate(v ?? dflt);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }
    return r;
  });

type Bool = ReturnType<typeof bool>;
type Str = ReturnType<typeof str>;
type Url = ReturnType<typeof url>;
type List = ReturnType<typeof list>;
type ProviderShape = { [K in ProviderEnvKey<BuiltinProviderName, 'ENABLED' | 'SKIP_NONCE_CHECK' | 'EMAIL_OPTIONAL'>]: Bool } & {
  [K in ProviderEnvKey<BuiltinProviderName, 'CLIENT_ID'>]: List;
} & { [K in ProviderEnvKey<BuiltinProviderName, 'SECRET'>]: Str } & { [K in ProviderEnvKey<BuiltinProviderName, 'REDIRECT_URI' | 'URL'>]: Url };

/** GOTRUE_EXTERNAL_<P>_* for every built-in provider, generated from the one list in providers.ts. */
function providerShape(): ProviderShape {
  const shape: Record<string, unknown> = {};
  for (const p of BUILTIN_PROVIDERS) {
    shape[providerEnvKey(p, 'ENABLED')] = bool(false);
    shape[providerEnvKey(p, 'CLIENT_ID')] = list([]);
    shape[providerEnvKey(p, 'SECRET')] = str();
    shape[providerEnvKey(p, 'REDIRECT_URI')] = url();
    shape[providerEnvKey(p, 'URL')] = url();
    shape[providerEnvKey(p, 'SKIP_NONCE_CHECK')] = bool(false);
    shape[providerEnvKey(p, 'EMAIL_OPTIONAL')] = bool(false);
  }
  return shape as ProviderShape;
}

/** GoTrue's names for the mail kinds (GOTRUE_MAILER_TEMPLATES_<KIND>, _SUBJECTS_<KIND>). */
export const MAILER_KINDS = ['CONFIRMATION', 'INVITE', 'RECOVERY', 'MAGIC_LINK', 'EMAIL_CHANGE', 'REAUTHENTICATION'] as const;
/** The kinds whose mail carries a link (GOTRUE_MAILER_URLPATHS_<KIND>); reauthentication only has a code. */
export const LINK_KINDS = ['CONFIRMATION', 'INVITE', 'RECOVERY', 'MAGIC_LINK', 'EMAIL_CHANGE'] as const;

function mailerKinds<P extends string, T>(prefix: P, make: () => T): Record<`${P}${(typeof MAILER_KINDS)[number]}`, T> {
  return Object.fromEntries(MAILER_KINDS.map((k) => [`${prefix}${k}`, make()])) as Record<`${P}${(typeof MAILER_KINDS)[number]}`, T>;
}
/** GoTrue's security notifications (GOTRUE_MAILER_NOTIFICATIONS_<KIND>_ENABLED, _TEMPLATES_/_SUBJECTS_<KIND>_NOTIFICATION). */
export const NOTIFICATION_KINDS = ['PASSWORD_CHANGED', 'EMAIL_CHANGED', 'PHONE_CHANGED', 'IDENTITY_LINKED', 'IDENTITY_UNLINKED', 'MFA_FACTOR_ENROLLED', 'MFA_FACTOR_UNENROLLED'] as const;
function notificationKinds<P extends string, S extends string, T>(prefix: P, suffix: S, make: () => T): Record<`${P}${(typeof NOTIFICATION_KINDS)[number]}${S}`, T> {
  return Object.fromEntries(NOTIFICATION_KINDS.map((k) => [`${prefix}${k}${suffix}`, make()])) as Record<`${P}${(typeof NOTIFICATION_KINDS)[number]}${S}`, T>;
}
function linkKinds<P extends string, T>(prefix: P, make: () => T): Record<`${P}${(typeof LINK_KINDS)[number]}`, T> {
  return Object.fromEntries(LINK_KINDS.map((k) => [`${prefix}${k}`, make()])) as Record<`${P}${(typeof LINK_KINDS)[number]}`, T>;
}

const logLevel = str().pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional());

/**
 * The environment variables this server reads, by their GoTrue names. Where GoTrue accepts two names the first
 * one set wins (see ALIASES in load-config.ts).
 */
export const envSchema = z.object({
  DATABASE_URL: str(),
  GOTRUE_DB_NAMESPACE: str().pipe(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier')
      .optional(),
  ),
  GOTRUE_DB_MAX_POOL_SIZE: int(10, 1),
  GOTRUE_DB_DATA_DIR: str(),
  GOTRUE_DB_CONNECT_TIMEOUT: duration('5s').refine((ms) => ms > 0, { message: 'expected a positive duration such as 5s' }),
  GOTRUE_DB_STATEMENT_TIMEOUT: duration('10s'),

  GOTRUE_API_HOST: str(),
  PORT: int(8081, 0),
  API_EXTERNAL_URL: url(),
  GOTRUE_API_MAX_REQUEST_DURATION: duration('10s'),
  GOTRUE_WORKERS: int(1, 1),

  GOTRUE_SITE_URL: url(),
  GOTRUE_URI_ALLOW_LIST: list([]),
  GOTRUE_DISABLE_SIGNUP: bool(false),

  GOTRUE_JWT_SECRET: str(),
  GOTRUE_JWT_EXP: int(3600, 1),
  GOTRUE_JWT_AUD: str(),
  GOTRUE_JWT_DEFAULT_GROUP_NAME: str(),
  GOTRUE_JWT_ADMIN_ROLES: list(['service_role', 'supabase_admin']),
  GOTRUE_JWT_ADMIN_GROUP_NAME: str(),
  GOTRUE_JWT_ISSUER: str(),
  GOTRUE_JWT_KEY_ID: str(),
  GOTRUE_JWT_KEYS: str(),
  GOTRUE_JWT_VALID_METHODS: str(),
  GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: str(),

  GOTRUE_EXTERNAL_EMAIL_ENABLED: bool(true),
  GOTRUE_EXTERNAL_PHONE_ENABLED: bool(false),
  GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: bool(false),
  GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION: duration('300s'),
  GOTRUE_EXTERNAL_REDIRECTURL: url(),
  GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: str(),
  ...providerShape(),
  GOTRUE_MAILER_AUTOCONFIRM: bool(false),
  GOTRUE_MAILER_ALLOW_UNVERIFIED_EMAIL_SIGN_INS: bool(false),
  GOTRUE_EXTERNAL_EMAIL_MAGIC_LINK_ENABLED: bool(true),
  GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED: bool(true),
  GOTRUE_MAILER_OTP_EXP: int(86400, 1),
  GOTRUE_MAILER_OTP_LENGTH: int(6, 6),
  ...mailerKinds('GOTRUE_MAILER_TEMPLATES_', str),
  ...mailerKinds('GOTRUE_MAILER_SUBJECTS_', str),
  ...linkKinds('GOTRUE_MAILER_URLPATHS_', str),

  GOTRUE_SMTP_HOST: str(),
  GOTRUE_SMTP_PORT: int(587, 1),
  GOTRUE_SMTP_USER: str(),
  GOTRUE_SMTP_PASS: str(),
  GOTRUE_SMTP_ADMIN_EMAIL: str(),
  GOTRUE_SMTP_SENDER_NAME: str(),
  GOTRUE_SMTP_MAX_FREQUENCY: duration('60s'),

  GOTRUE_SMS_AUTOCONFIRM: bool(false),
  GOTRUE_SMS_PROVIDER: smsProvider,
  GOTRUE_SMS_MAX_FREQUENCY: duration('60s'),
  GOTRUE_SMS_OTP_EXP: int(60, 0),
  GOTRUE_SMS_OTP_LENGTH: int(6, 0),
  GOTRUE_SMS_TEMPLATE: str(),
  GOTRUE_SMS_TEST_OTP: testOtp,
  GOTRUE_SMS_TEST_OTP_VALID_UNTIL: timestamp(),
  GOTRUE_SMS_TWILIO_ACCOUNT_SID: str(),
  GOTRUE_SMS_TWILIO_AUTH_TOKEN: str(),
  GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: str(),
  GOTRUE_SMS_TWILIO_CONTENT_SID: str(),
  GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID: str(),
  GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN: str(),
  GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID: str(),
  GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY: str(),
  GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR: str(),
  GOTRUE_SMS_TEXTLOCAL_API_KEY: str(),
  GOTRUE_SMS_TEXTLOCAL_SENDER: str(),
  GOTRUE_SMS_VONAGE_API_KEY: str(),
  GOTRUE_SMS_VONAGE_API_SECRET: str(),
  GOTRUE_SMS_VONAGE_FROM: str(),

  GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED: bool(true),
  GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL: int(0, 0),
  GOTRUE_SECURITY_MANUAL_LINKING_ENABLED: bool(false),
  GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION: bool(false),

  GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION: num(300),
  GOTRUE_MFA_FACTOR_EXPIRY_DURATION: duration('300s'),
  GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: num(15),
  GOTRUE_MFA_MAX_ENROLLED_FACTORS: int(10, 0),
  GOTRUE_MFA_MAX_VERIFIED_FACTORS: int(10, 0),
  GOTRUE_MFA_TOTP_ENROLL_ENABLED: bool(true),
  GOTRUE_MFA_TOTP_VERIFY_ENABLED: bool(true),
  GOTRUE_MFA_PHONE_ENROLL_ENABLED: bool(false),
  GOTRUE_MFA_PHONE_VERIFY_ENABLED: bool(false),
  GOTRUE_MFA_PHONE_OTP_LENGTH: int(6, 0),
  GOTRUE_MFA_PHONE_MAX_FREQUENCY: duration('60s'),
  GOTRUE_MFA_PHONE_TEMPLATE: str(),
  // MFA recovery codes (auth-js's experimental mfa.recoveryCodes; not in GoTrue).
  GOTRUE_MFA_RECOVERY_CODES_ENROLL_ENABLED: bool(false),
  GOTRUE_MFA_RECOVERY_CODES_VERIFY_ENABLED: bool(false),
  GOTRUE_MFA_RECOVERY_CODES_MAX_ATTEMPTS: int(5, 1),
  GOTRUE_MFA_RECOVERY_CODES_LOCKOUT_DURATION: duration('15m'),
  GOTRUE_SESSIONS_ALLOW_LOW_AAL: duration('0s'),
  // Session policies, security notifications and housekeeping (issue 13 items 5–8).
  GOTRUE_SESSIONS_TIMEBOX: duration('0s'),
  GOTRUE_SESSIONS_INACTIVITY_TIMEOUT: duration('0s'),
  GOTRUE_SESSIONS_SINGLE_PER_USER: bool(false),
  GOTRUE_SESSIONS_TAGS: list([]),
  ...notificationKinds('GOTRUE_MAILER_NOTIFICATIONS_', '_ENABLED', () => bool(false)),
  ...notificationKinds('GOTRUE_MAILER_TEMPLATES_', '_NOTIFICATION', str),
  ...notificationKinds('GOTRUE_MAILER_SUBJECTS_', '_NOTIFICATION', str),
  GOTRUE_DB_CLEANUP_ENABLED: bool(false),
  GOTRUE_DB_CLEANUP_INTERVAL: duration('60s'),
  GOTRUE_DB_CLEANUP_BATCH_SIZE: int(100, 1),

  GOTRUE_PASSWORD_MIN_LENGTH: int(6, 0),
  GOTRUE_PASSWORD_REQUIRED_CHARACTERS: str().transform((v) => (v === undefined ? [] : parseRequiredCharacters(v))),

  GOTRUE_CORS_ALLOWED_HEADERS: list([]),

  GOTRUE_RATE_LIMIT_HEADER: str(),
  GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS: int(1, 1),
  GOTRUE_SECURITY_SB_FORWARDED_FOR_ENABLED: bool(false),
  GOTRUE_RATE_LIMIT_STORE: str().pipe(z.enum(RATE_LIMIT_STORES).optional()),
  GOTRUE_RATE_LIMIT_REDIS_URL: str().refine((v) => v === undefined || /^rediss?:\/\/./.test(v), { message: 'expected a redis:// or rediss:// URL' }),
  GOTRUE_RATE_LIMIT_KEY_PREFIX: str().pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected 1 to 40 letters, digits, _ . or -')
      .optional(),
  ),
  GOTRUE_RATE_LIMIT_TOKEN_REFRESH: num(150),
  GOTRUE_RATE_LIMIT_OTP: num(30),
  GOTRUE_RATE_LIMIT_VERIFY: num(30),
  GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: num(30),
  GOTRUE_RATE_LIMIT_EMAIL_SENT: rate('30'),
  GOTRUE_RATE_LIMIT_SMS_SENT: rate('30'),

  // Abuse protection: CAPTCHA, leaked-password checks and the current-password rule (GoTrue's names and defaults).
  GOTRUE_SECURITY_CAPTCHA_ENABLED: bool(false),
  GOTRUE_SECURITY_CAPTCHA_PROVIDER: str(),
  GOTRUE_SECURITY_CAPTCHA_SECRET: str(),
  GOTRUE_SECURITY_CAPTCHA_TIMEOUT: duration('10s'),
  /** Ours: where tokens are verified, instead of the provider's public siteverify URL (a stand-in, an egress proxy). */
  GOTRUE_SECURITY_CAPTCHA_VERIFY_URL: url(),
  GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD: bool(false),
  GOTRUE_PASSWORD_HIBP_ENABLED: bool(false),
  GOTRUE_PASSWORD_HIBP_FAIL_CLOSED: bool(false),
  GOTRUE_PASSWORD_HIBP_USER_AGENT: str(),
  GOTRUE_PASSWORD_HIBP_BLOOM_ENABLED: bool(false),
  GOTRUE_PASSWORD_HIBP_BLOOM_ITEMS: int(100000, 1),
  GOTRUE_PASSWORD_HIBP_BLOOM_FALSE_POSITIVES: num(0.0000099),
  /** Ours: the range API's base URL (a mirror or a stand-in); `/<5 hex>` is appended. */
  GOTRUE_PASSWORD_HIBP_URL: url(),
  // OAuth 2.1 / OpenID provider (issue 12): GoTrue's OAuthServerConfiguration, and the per-client lifetimes' defaults.
  GOTRUE_OAUTH_SERVER_ENABLED: bool(false),
  GOTRUE_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: bool(false),
  GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: str(),
  GOTRUE_OAUTH_SERVER_AUTHORIZATION_TTL: duration('10m'),
  GOTRUE_OAUTH_SERVER_DEFAULT_SCOPE: str(),
  GOTRUE_OAUTH_SERVER_ALLOW_PLAIN_PKCE: bool(false),
  GOTRUE_OAUTH_SERVER_RESOURCES: list([]),
  GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER: num(10),
  // Approve by API (issue 15, ours): the X-API-Key a platform's backend answers authorization requests with; unset = not accepted.
  GOTRUE_OAUTH_SERVER_API_KEY: str(),
  // Hosted pages (issue 15, ours): sign-in, TOTP and consent pages served at /oauth/pages when no AUTHORIZATION_PATH is set.
  GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED: bool(false),
  // MCP authorization (issue 15, item 5): Client ID Metadata Documents and the OAuth refresh grace window.
  GOTRUE_OAUTH_SERVER_CIMD_ENABLED: bool(false),
  GOTRUE_OAUTH_SERVER_CIMD_FETCH_TIMEOUT: duration('5s').refine((ms) => ms > 0, { message: 'expected a positive duration such as 5s' }),
  GOTRUE_OAUTH_SERVER_CIMD_MAX_BYTES: int(5120, 256),
  GOTRUE_OAUTH_SERVER_CIMD_CACHE_MIN_TTL: duration('5m'),
  GOTRUE_OAUTH_SERVER_CIMD_CACHE_MAX_TTL: duration('24h'),
  // Normalised here, once: each item as URL.origin spells it (no trailing slash), so the URL check and the SSRF guard
  // compare a parsed URL's origin to the list exactly.
  GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: list([])
    .refine((l) => l.every((o) => URL.canParse(o) && /^https?:$/.test(new URL(o).protocol) && new URL(o).origin === o.replace(/\/+$/, '')), {
      message: 'expected origins such as http://127.0.0.1:4000 (scheme, host and port; no path)',
    })
    .transform((l) => [...new Set(l.map((o) => new URL(o).origin))]),
  GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL: int(10, 0),

  GOTRUE_LOG_LEVEL: logLevel,
  GOTRUE_LOG_FORMAT: str().pipe(z.enum(['json', 'pretty']).optional()),

  // perf (issue 14): GoTrue's keyset pagination of GET /admin/users.
  GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: bool(false),
  // Observability (GoTrue's conf/metrics.go, conf/tracing.go; README "Metrics and traces").
  GOTRUE_METRICS_ENABLED: bool(false),
  GOTRUE_METRICS_EXPORTER: str().pipe(z.enum(['prometheus', 'opentelemetry']).optional()),
  OTEL_EXPORTER_PROMETHEUS_HOST: str(),
  OTEL_EXPORTER_PROMETHEUS_PORT: int(9100, 0),
  GOTRUE_TRACING_ENABLED: bool(false),
  GOTRUE_TRACING_EXPORTER: str().pipe(z.enum(['opentelemetry']).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: str().pipe(z.enum(['http/protobuf', 'http/json', 'grpc']).optional()),
  GOTRUE_TRACING_SERVICE_NAME: str(),
});

export type RawEnv = z.output<typeof envSchema>;
