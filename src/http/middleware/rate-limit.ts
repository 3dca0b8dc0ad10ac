import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config';
import { tooManyRequests } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { remoteAddress } from '../request-meta';

/** GoTrue's per-IP limiters: N requests per window; the window is 5 minutes unless said otherwise. */
export interface RateLimits {
  token: RequestHandler;
  otp: RequestHandler;
  verify: RequestHandler;
  anonymous: RequestHandler;
  /** /authorize and /callback: each creates rows (a flow; an account), so they are bounded too. */
  external: RequestHandler;
}

/**
 * The key is the GOTRUE_RATE_LIMIT_HEADER value when that header is configured and present (behind a proxy),
 * else the socket address. Unlike GoTrue, limits also apply without the header: a server reached directly (the
 * embedded default) still needs brute-force protection on its credential endpoints.
 */
export function createRateLimits(config: Config): RateLimits {
  const keyOf = (req: Request): string => {
    const header = config.rateLimit.header;
    const v = header ? req.header(header) : undefined;
    return v ? v.split(',')[0]!.trim() : remoteAddress(req);
  };
  const limiter = (perWindow: number, windowSeconds: number): RequestHandler => {
    const points = Math.max(1, Math.floor(perWindow));
    const rl = new RateLimiterMemory({ points, duration: windowSeconds });
    return async (req, res, next) => {
      try {
        await rl.consume(keyOf(req));
        next();
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        res.setHeader('Retry-After', String(Math.ceil(err.msBeforeNext / 1000)));
        throw tooManyRequests(ErrorCodes.overRequestRateLimit, 'Request rate limit reached');
      }
    };
  };
  return {
    token: limiter(config.rateLimit.tokenRefresh, 300),
    otp: limiter(config.rateLimit.otp, 300),
    verify: limiter(config.rateLimit.verify, 300),
    anonymous: limiter(config.rateLimit.anonymousUsers, 3600),
    external: limiter(config.rateLimit.otp * 10, 300),
  };
}
