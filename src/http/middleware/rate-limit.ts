import type { Request, RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Deps } from '../../deps';
import { tooManyRequests } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { remoteAddress, sbForwardedFor } from '../request-meta';

const MINUTE = 60;
const FIVE_MINUTES = 300;
const HOUR = 3600;

type RateLimitConfig = Config['rateLimit'];

/**
 * The per-client buckets: one per GoTrue limiter (api.go, options.go), each counting apart, as
 * [requests per window, window seconds]. GoTrue refills a token bucket (burst 30); these are fixed windows.
 */
const BUCKETS = {
  /** POST /token, every grant. */
  token: (r: RateLimitConfig) => [r.tokenRefresh, FIVE_MINUTES],
  /** POST /signup with an email or phone. */
  signup: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  /** POST /signup with neither: an anonymous sign-in, counted per hour. */
  anonymous: (r: RateLimitConfig) => [r.anonymousUsers, HOUR],
  otp: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  magiclink: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  recover: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  resend: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  /** GET and POST /verify. */
  verify: (r: RateLimitConfig) => [r.verify, FIVE_MINUTES],
  /** PUT /user. */
  user: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  /** GET /reauthenticate sends a mail or SMS: limited here (GoTrue leaves it to the send limits). */
  reauthenticate: (r: RateLimitConfig) => [r.otp, FIVE_MINUTES],
  /** /authorize, /callback, identity linking: each creates rows (a flow; an account), so they are bounded here too. */
  external: (r: RateLimitConfig) => [r.otp * 10, FIVE_MINUTES],
  /** POST /factors/{id}/challenge: GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY per minute (GoTrue's FactorChallenge limiter). */
  mfaChallenge: (_r: RateLimitConfig, c: Config) => [c.mfa.rateLimitChallengeAndVerify, MINUTE],
  /** POST /factors/{id}/verify: the same rate, counted apart (GoTrue's FactorVerify limiter). */
  mfaVerify: (_r: RateLimitConfig, c: Config) => [c.mfa.rateLimitChallengeAndVerify, MINUTE],
  /** OAuth server: POST /oauth/token, /oauth/revoke, /oauth/introspect — the /token rate, counted apart. */
  oauthToken: (r: RateLimitConfig) => [r.tokenRefresh, FIVE_MINUTES],
  /** OAuth server: POST /oauth/clients/register, GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER per hour. */
  oauthRegister: (_r: RateLimitConfig, c: Config) => [c.oauthServer.rateLimitDynamicClientRegister, HOUR],
  /**
   * Approve by API (`/admin/oauth/authorizations/*`): wrong `X-API-Key`s per client, at the /verify rate. Only
   * failures count (a platform's backend approves every sign-in from one address); over the limit, every request
   * carrying a key is refused before the key is compared, so a guess cannot be confirmed either.
   */
  oauthApiKey: (r: RateLimitConfig) => [r.verify, FIVE_MINUTES],
} satisfies Record<string, (r: RateLimitConfig, c: Config) => [number, number]>;

export type RateLimitBucket = keyof typeof BUCKETS;

/** One middleware per bucket, for the route table: `r.post('/recover', limit.recover, …)`. */
export type RateLimits = Record<RateLimitBucket, RequestHandler>;

/** Keys longer than this are cut: a store key is at most 255 characters. */
const MAX_KEY_LENGTH = 128;

/**
 * The client a request is counted against, which the client itself cannot choose:
 * 1. with GOTRUE_SECURITY_SB_FORWARDED_FOR_ENABLED, a valid left-most Sb-Forwarded-For address (as GoTrue);
 * 2. with GOTRUE_RATE_LIMIT_HEADER, the entry the nearest trusted proxy wrote: proxies append to a list such as
 *    X-Forwarded-For, so the Nth entry from the right (N = GOTRUE_RATE_LIMIT_HEADER_TRUSTED_HOPS, default 1).
 *    GoTrue takes the left-most, which is whatever the client sent; a single-valued header is read the same either
 *    way. Fewer entries than hops (a request that skipped an outer proxy): the left-most, which the first proxy
 *    it met wrote;
 * 3. else the socket address. Unlike GoTrue, which does not limit at all without the header, limits always apply.
 */
export function rateLimitKey(req: Request, config: Config): string {
  const sbff = sbForwardedFor(req, config);
  if (sbff) return sbff;
  const { header, headerTrustedHops } = config.rateLimit;
  const entries = (header ? req.header(header) ?? '' : '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const entry = entries[Math.max(0, entries.length - headerTrustedHops)];
  return (entry ?? remoteAddress(req)).slice(0, MAX_KEY_LENGTH);
}

/**
 * The buckets' middleware over the store in deps: over a limit is 429 over_request_rate_limit with Retry-After.
 * A store that fails does not fail the request (see rate-limit-store.ts).
 */
export function createRateLimits(deps: Pick<Deps, 'config' | 'rateLimitStore'> & Partial<Pick<Deps, 'metrics'>>): RateLimits {
  const middleware = (bucket: RateLimitBucket): RequestHandler => {
    const [points, windowSeconds] = BUCKETS[bucket](deps.config.rateLimit, deps.config);
    const limiter = deps.rateLimitStore.limiter(bucket, points, windowSeconds);
    return async (req, res, next) => {
      const verdict = await limiter.consume(rateLimitKey(req, deps.config));
      if (!verdict.allowed) {
        deps.metrics?.rateLimited(bucket);
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
        throw tooManyRequests(ErrorCodes.overRequestRateLimit, 'Request rate limit reached');
      }
      next();
    };
  };
  const limits = Object.fromEntries(Object.keys(BUCKETS).map((b) => [b, middleware(b as RateLimitBucket)])) as RateLimits;
  limits.oauthApiKey = failedApiKeys(deps);
  // GoTrue counts an anonymous sign-in (neither email nor phone) in its own hourly bucket.
  const { signup, anonymous } = limits;
  limits.signup = (req, res, next) => {
    const body = req.body as { email?: unknown; phone?: unknown } | undefined;
    return (body?.email || body?.phone ? signup : anonymous)(req, res, next);
  };
  return limits;
}

/**
 * The oauthApiKey bucket: every request carrying `X-API-Key` is counted before the key is compared (parallel guesses
 * cannot slip past the count) and refunded when it does not end in 401 bad_api_key.
 */
function failedApiKeys(deps: Pick<Deps, 'config' | 'rateLimitStore'> & Partial<Pick<Deps, 'metrics'>>): RequestHandler {
  const [points, windowSeconds] = BUCKETS.oauthApiKey(deps.config.rateLimit);
  const limiter = deps.rateLimitStore.limiter('oauthApiKey', points, windowSeconds);
  return async (req, res, next) => {
    if (req.header('x-api-key') === undefined) return next();
    const key = rateLimitKey(req, deps.config);
    const verdict = await limiter.consume(key);
    if (!verdict.allowed) {
      deps.metrics?.rateLimited('oauthApiKey');
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
      throw tooManyRequests(ErrorCodes.overRequestRateLimit, 'Request rate limit reached');
    }
    res.once('close', () => {
      if (res.getHeader('x-sb-error-code') !== ErrorCodes.badApiKey) void limiter.refund(key);
    });
    next();
  };
}
