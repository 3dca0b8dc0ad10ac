import type { BuiltinProviderConfig, BuiltinProviderName, CustomProviderConfig } from './providers';
import type { Rate } from './rate';
import type { VaultKey } from './vault-keys';
import type { JwtAlgorithm, JwtKeyConfig } from './jwt-keys';
import type { HooksConfig } from './hooks';

/** SMS vendors by their GOTRUE_SMS_PROVIDER names. */
export type SmsProviderName = 'twilio' | 'twilio_verify' | 'messagebird' | 'textlocal' | 'vonage';

/** Where rate-limit counters live (GOTRUE_RATE_LIMIT_STORE). */
export type RateLimitStoreKind = 'memory' | 'postgres' | 'redis';

/** Mail kinds as the mailer names them (GoTrue's env names are these, upper-cased). */
export type MailKind = 'confirmation' | 'invite' | 'recovery' | 'magic_link' | 'email_change' | 'reauthentication';
/** Security notification mails (GoTrue's *_notification templates): they tell the user, they carry no link or code. */
export type NotificationKind =
  | 'password_changed'
  | 'email_changed'
  | 'phone_changed'
  | 'identity_linked'
  | 'identity_unlinked'
  | 'mfa_factor_enrolled'
  | 'mfa_factor_unenrolled';
/** The kinds whose mail carries a link. */
export type LinkMailKind = Exclude<MailKind, 'reauthentication'>;

/** The parsed, frozen configuration. Built once by loadConfig; everything else reads this, never the env. */
export interface Config {
  api: {
    /** Interface to bind; '' = all interfaces (GoTrue's default). */
    host: string;
    port: number;
    /** Public URL of this API (links in mail, redirects). */
    externalUrl: string;
    /** Longest a request may run before a 504 request_timeout. */
    maxRequestDurationMs: number;
    /** Worker processes for `serve` (GOTRUE_WORKERS); one Node process uses one core. */
    workers: number;
  };
  db: {
    /** Postgres URL; undefined = the embedded PGlite database in dataDir. */
    url: string | undefined;
    /** The schema holding the auth tables. */
    namespace: string;
    maxPoolSize: number;
    /** Where the embedded database and its generated secret live. */
    dataDir: string;
    /** Postgres: longest wait for a connection (new, or a free pool slot); then 503 database_unavailable. */
    connectTimeoutMs: number;
    /** Postgres: statement_timeout of the server's connections (then 504 request_timeout); 0 = none. */
    statementTimeoutMs: number;
  };
  siteUrl: string;
  uriAllowList: string[];
  disableSignup: boolean;
  jwt: {
    /** HS256 secret; undefined only on the embedded default before serve generates one. */
    secret: string | undefined;
    /** Access token lifetime, seconds. */
    exp: number;
    aud: string;
    /** Role given to new users; GoTrue's default is 'authenticated'. */
    defaultGroupName: string;
    adminRoles: string[];
    adminGroupName: string;
    /** `iss` claim; omitted when empty. */
    issuer: string;
    /** kid of the HS256 secret's tokens (GOTRUE_JWT_KEY_ID); none = they carry no kid. */
    keyId: string | undefined;
    /** GOTRUE_JWT_KEYS: one key signs, all verify; empty = the HS256 secret signs. */
    keys: JwtKeyConfig[];
    /** `alg` values accepted (GOTRUE_JWT_VALID_METHODS), the signing key's first. */
    validMethods: JwtAlgorithm[];
    /**
     * GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: what the refresh-token MAC key is derived from. Unset = the JWT secret
     * (as before it existed), so rotating the JWT secret then also ends refresh tokens.
     */
    refreshTokenSecret: string | undefined;
  };
  external: {
    email: { enabled: boolean; magicLinkEnabled: boolean };
    phone: { enabled: boolean };
    anonymousUsers: { enabled: boolean };
    /** How long a PKCE / OAuth flow_state stays redeemable (from code issue, else creation). */
    flowStateExpiryMs: number;
    /** GOTRUE_EXTERNAL_REDIRECTURL (alias GOTRUE_EXTERNAL_REDIRECT_URL): where every OAuth callback lands, over the flow's redirect_to. */
    redirectUrl: string | undefined;
    /** Built-in OAuth/OIDC providers by name. */
    providers: Record<BuiltinProviderName, BuiltinProviderConfig>;
    /** Generic providers configured by environment (the admin API adds more, in the database). */
    custom: CustomProviderConfig[];
    /** Provider token vault keys; the first encrypts. Empty = provider tokens are not stored. */
    tokenVaultKeys: VaultKey[];
  };
  sms: {
    autoconfirm: boolean;
    /** The vendor sending codes; '' = none configured (phone flows cannot send). */
    provider: SmsProviderName | '';
    /** Least time between two codes sent to one phone (GOTRUE_SMS_MAX_FREQUENCY). */
    maxFrequencyMs: number;
    /** Seconds an SMS code stays valid. */
    otpExp: number;
    /** Digits in an SMS code, 6–10. */
    otpLength: number;
    /** Go-template text with `{{ .Code }}`; see renderSmsTemplate. */
    template: string;
    /** Phone (E.164 digits, no '+') → fixed code; sending is skipped for these phones. */
    testOtp: Readonly<Record<string, string>>;
    /** Epoch ms after which testOtp no longer applies; undefined = always applies. */
    testOtpValidUntil: number | undefined;
    twilio: { accountSid: string; authToken: string; messageServiceSid: string; contentSid: string };
    twilioVerify: { accountSid: string; authToken: string; messageServiceSid: string };
    messagebird: { accessKey: string; originator: string };
    textlocal: { apiKey: string; sender: string };
    vonage: { apiKey: string; apiSecret: string; from: string };
  };
  mailer: {
    autoconfirm: boolean;
    /** Let a provider sign in with an unverified email (GoTrue's MAILER_ALLOW_UNVERIFIED_EMAIL_SIGN_INS). */
    allowUnverifiedEmailSignIns: boolean;
    /** Email change needs a confirmation from the current address as well as the new one. */
    secureEmailChangeEnabled: boolean;
    /** How long an emailed link or code stays valid, seconds. */
    otpExpSeconds: number;
    otpLength: number;
    /** Custom template per kind: an http(s) URL or a file path; undefined = the default in templates/. */
    templates: Record<MailKind, string | undefined>;
    /** Subject per kind; undefined = the default. */
    subjects: Record<MailKind, string | undefined>;
    /** Path (or absolute URL) of the link per kind; a path is joined to API_EXTERNAL_URL. */
    urlPaths: Record<LinkMailKind, string>;
  };
  smtp: {
    /** Undefined = no SMTP: mail goes to the log transport (dev default). */
    host: string | undefined;
    port: number;
    user: string | undefined;
    pass: string | undefined;
    adminEmail: string | undefined;
    senderName: string | undefined;
    /** Shortest interval between two mails of one kind to one user. */
    maxFrequencyMs: number;
  };
  security: {
    refreshTokenRotationEnabled: boolean;
    /** Seconds a revoked refresh token may still be swapped. */
    refreshTokenReuseInterval: number;
    /** GET /user/identities/authorize and DELETE /user/identities/{id} are available. */
    manualLinkingEnabled: boolean;
    /** A password change in a session older than 24 h needs the nonce from GET /reauthenticate. */
    updatePasswordRequireReauthentication: boolean;
    /** PUT /user with a new password needs `current_password` (outside a recovery session). */
    updatePasswordRequireCurrentPassword: boolean;
  };
  /** Multi-factor authentication (GoTrue's MFAConfiguration, GOTRUE_MFA_*). */
  mfa: {
    /** Seconds a challenge stays verifiable (GoTrue raises anything under 300 to 300). */
    challengeExpirySeconds: number;
    /** How long an unverified factor with no challenge lives before enrolment sweeps it (at least 300 s). */
    factorExpiryMs: number;
    /** Challenge and verify requests per minute per client, each counted apart. */
    rateLimitChallengeAndVerify: number;
    /** Factors (any status) a user may hold. */
    maxEnrolledFactors: number;
    /** Verified factors a user may hold. */
    maxVerifiedFactors: number;
    totp: { enrollEnabled: boolean; verifyEnabled: boolean };
    phone: {
      enrollEnabled: boolean;
      verifyEnabled: boolean;
      /** Digits in an MFA SMS code, 6–10 (anything else is 6, as GoTrue). */
      otpLength: number;
      /** Least time between two challenges of one phone factor. */
      maxFrequencyMs: number;
      /** Go-template text with `{{ .Code }}`. */
      template: string;
    };
    /** MFA recovery codes (GOTRUE_MFA_RECOVERY_CODES_*; auth-js's experimental mfa.recoveryCodes). */
    recoveryCodes: {
      enrollEnabled: boolean;
      verifyEnabled: boolean;
      /** Wrong codes in a row before verification locks. */
      maxAttempts: number;
      /** How long a lock lasts. */
      lockoutMs: number;
    };
  };
  sessions: {
    /** GOTRUE_SESSIONS_ALLOW_LOW_AAL: how long a session may stay below the user's highest AAL and still refresh; 0 = forever. */
    allowLowAalMs: number;
    /** GOTRUE_SESSIONS_TIMEBOX: a session stops refreshing this long after it began; 0 = never. */
    timeboxMs: number;
    /** GOTRUE_SESSIONS_INACTIVITY_TIMEOUT: a session not refreshed for this long stops refreshing; 0 = never. */
    inactivityTimeoutMs: number;
    /** GOTRUE_SESSIONS_SINGLE_PER_USER: a new sign-in ends the user's other sessions (of the same tag). */
    singlePerUser: boolean;
    /** GOTRUE_SESSIONS_TAGS: single-per-user applies per tag; a session without a listed tag counts as the first. */
    tags: string[];
  };
  /** Security notification mails: which are sent, custom templates (URL or file) and subjects. */
  notifications: {
    enabled: Record<NotificationKind, boolean>;
    templates: Record<NotificationKind, string | undefined>;
    subjects: Record<NotificationKind, string | undefined>;
  };
  /** GOTRUE_DB_CLEANUP_*: the housekeeping loop of `serve`. */
  cleanup: {
    enabled: boolean;
    /** Pause between two rounds. */
    intervalMs: number;
    /** Rows one statement deletes at most, so a hot table is never locked for long. */
    batchSize: number;
  };
  password: { minLength: number; requiredCharacters: string[] };
  cors: { allowedHeaders: string[] };
  rateLimit: {
    /** Request header naming the client IP (as behind a proxy); else the socket address is used. */
    header: string | undefined;
    /**
     * Which entry of a comma-separated `header` is the client: the Nth from the right, N being the number of
     * proxies in front that append to it (1 = the right-most, written by the nearest proxy).
     */
    headerTrustedHops: number;
    /** Key on the left-most Sb-Forwarded-For address when it is a valid IP (GoTrue's flag; Supabase's edge sets it). */
    sbForwardedForEnabled: boolean;
    /** Where counters live: shared by every process on Postgres or Redis, per process in memory. */
    store: RateLimitStoreKind;
    /** Redis for `store: 'redis'` (GOTRUE_RATE_LIMIT_REDIS_URL). */
    redisUrl: string | undefined;
    /** Prefixes every counter key, so several deployments can share one Redis. */
    keyPrefix: string;
    /** Requests per 5 minutes per IP on /token. */
    tokenRefresh: number;
    /** Requests per 5 minutes per IP on each of /signup, /otp, /magiclink, /recover, /resend, PUT /user, GET /reauthenticate. */
    otp: number;
    /** Requests per 5 minutes per IP on /verify. */
    verify: number;
    /** Anonymous sign-ins per hour per IP. */
    anonymousUsers: number;
    /** Mails sent by the whole server (GOTRUE_RATE_LIMIT_EMAIL_SENT); over it is 429 over_email_send_rate_limit. */
    emailSent: Rate;
    /** SMS sent by the whole server (GOTRUE_RATE_LIMIT_SMS_SENT); over it is 429 over_sms_send_rate_limit. */
    smsSent: Rate;
  };
  /** GOTRUE_SECURITY_CAPTCHA_*: a CAPTCHA token on the endpoints GoTrue guards. */
  captcha: {
    enabled: boolean;
    provider: 'hcaptcha' | 'turnstile';
    secret: string;
    timeoutMs: number;
    /** The siteverify URL: GOTRUE_SECURITY_CAPTCHA_VERIFY_URL, else the provider's. */
    verifyUrl: string;
  };
  /** GOTRUE_PASSWORD_HIBP_*: refuse passwords found in the Pwned Passwords range API (k-anonymity). */
  hibp: {
    enabled: boolean;
    /** When the range API cannot be asked: refuse the password (true) or let it through (false). */
    failClosed: boolean;
    userAgent: string;
    /** The range API's base URL; `/<first 5 hex of SHA-1>` is appended. */
    url: string;
    /** An in-process bloom filter of pwned hashes already fetched (GoTrue's cache). */
    bloom: { enabled: boolean; items: number; falsePositives: number };
  };
  log: {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
    /** GOTRUE_LOG_FORMAT: undefined = pretty when stdout is a terminal, JSON otherwise. */
    format: 'json' | 'pretty' | undefined;
  };
  experimental: {
    /** GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: GET /admin/users pages by cursor unless page/per_page is given. */
    cursorPaginationEnabled: boolean;
  };
  /** GoTrue's auth hooks (GOTRUE_HOOK_<KIND>_ENABLED, _URI, _SECRETS): the enabled ones, by kind. */
  hooks: HooksConfig;
  /** The OAuth 2.1 / OpenID provider (GoTrue's OAuthServerConfiguration, GOTRUE_OAUTH_SERVER_*). */
  oauthServer: {
    enabled: boolean;
    /** POST /oauth/clients/register (RFC 7591) is open. */
    allowDynamicRegistration: boolean;
    /** The consent page's path on GOTRUE_SITE_URL; /oauth/authorize redirects there with ?authorization_id=. */
    authorizationPath: string;
    /** How long an authorization request (and its code) stays usable. */
    authorizationTtlMs: number;
    /** Scope of an authorization request that names none (GoTrue: "email"). */
    defaultScope: string;
    /** Accept code_challenge_method=plain (off: S256 only, as OAuth 2.1 recommends). */
    allowPlainPkce: boolean;
    /** RFC 8707 resource indicators a client may ask for (they become the access token's aud); empty = none. */
    resources: string[];
    /** Dynamic client registrations per hour per IP (GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER). */
    rateLimitDynamicClientRegister: number;
    /** GOTRUE_OAUTH_SERVER_API_KEY (ours): accepted in X-API-Key on /admin/oauth/authorizations/*; '' = not accepted. */
    apiKey: string;
    /**
     * GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED (ours): with no authorizationPath, /oauth/authorize sends the browser to
     * this server's own minimal sign-in, TOTP and consent pages (API_EXTERNAL_URL/oauth/pages/consent).
     */
    hostedPagesEnabled: boolean;
    /**
     * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP's registration): an https
     * client_id with a path is fetched as the client's metadata (GOTRUE_OAUTH_SERVER_CIMD_*).
     */
    cimd: {
      enabled: boolean;
      fetchTimeoutMs: number;
      maxBytes: number;
      /** The HTTP cache lifetime of a document is clamped between these. */
      cacheMinTtlMs: number;
      cacheMaxTtlMs: number;
      /**
       * Exact origins allowed to serve documents over http and from any address, each as URL.origin spells it
       * (normalised by the schema). Tests only; warned at startup.
       */
      testingOnlyInsecureOrigins: string[];
    };
    /**
     * GOTRUE_OAUTH_SERVER_REFRESH_TOKEN_REUSE_INTERVAL (seconds): a refresh token presented again this soon after it
     * was rotated gets the family's live token back instead of revoking the family (parallel processes of one client).
     */
    refreshTokenReuseInterval: number;
  };
  /** Prometheus metrics on a listener of their own (GOTRUE_METRICS_*). */
  metrics: {
    enabled: boolean;
    /** GOTRUE_METRICS_EXPORTER; GoTrue's default is opentelemetry, which this server refuses when enabled. */
    exporter: 'prometheus' | 'opentelemetry';
    /** OTEL_EXPORTER_PROMETHEUS_HOST / _PORT: where /metrics is served (default 0.0.0.0:9100). */
    host: string;
    port: number;
  };
  /** OpenTelemetry traces over OTLP/HTTP (GOTRUE_TRACING_ENABLED; endpoint and headers from the standard OTEL_* variables). */
  tracing: {
    enabled: boolean;
    /** OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (default) or http/json; grpc is refused. */
    protocol: 'http/protobuf' | 'http/json' | 'grpc';
    /** OTEL_SERVICE_NAME, else GOTRUE_TRACING_SERVICE_NAME, else gotrue. */
    serviceName: string;
  };
}
