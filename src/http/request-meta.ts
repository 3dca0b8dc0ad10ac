import { isIP } from 'node:net';
import type { Request } from 'express';
import type { Config } from '../config';
import type { JwtClaims } from '../crypto/jwt';
import type { RequestMeta } from '../domain/request-meta';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/** The socket's address, without the IPv4-mapped prefix. */
export function remoteAddress(req: Request): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** GoTrue's client IP for audit rows: the first valid X-Forwarded-For entry, else the socket address. */
export function clientIp(req: Request): string {
  const xff = req.header('x-forwarded-for');
  if (xff) {
    for (const part of xff.split(',')) {
      const ip = part.trim();
      if (isIP(ip)) return ip;
    }
  }
  return remoteAddress(req);
}

/**
 * GoTrue's Sb-Forwarded-For: with GOTRUE_SECURITY_SB_FORWARDED_FOR_ENABLED, the header's left-most entry when it
 * is a valid IP. Supabase's edge sets the header itself, so a deployment behind it can trust that entry; it then
 * names the client for rate limits and audit rows alike. Undefined when off, absent or not an IP.
 */
export function sbForwardedFor(req: Request, config: Pick<Config, 'rateLimit'>): string | undefined {
  if (!config.rateLimit.sbForwardedForEnabled) return undefined;
  const first = req.header('sb-forwarded-for')?.split(',')[0]?.trim();
  return first && isIP(first) ? first : undefined;
}

/** users.aud is varchar(255). */
export const MAX_AUD_LENGTH = 255;

/** A token's audience: its `aud`, or the first of a list (as Go's claims.GetAudience()[0]). */
export function tokenAudience(claims: JwtClaims): string | undefined {
  const aud = claims['aud'];
  const first = Array.isArray(aud) ? (aud as unknown[])[0] : aud;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/**
 * The request's facts for the flows. The audience is GoTrue's requestAud: the X-JWT-AUD header, else the caller's
 * token `aud` (user-level routes; an admin role's token never names one), else GOTRUE_JWT_AUD. An X-JWT-AUD longer
 * than the column is 400 validation_failed.
 */
export function requestMeta(req: Request, config: Pick<Config, 'jwt' | 'rateLimit'>, caller?: JwtClaims): RequestMeta {
  const header = req.header('x-jwt-aud')?.trim();
  if (header && header.length > MAX_AUD_LENGTH) throw badRequest(ErrorCodes.validationFailed, `X-JWT-AUD cannot be longer than ${MAX_AUD_LENGTH} characters`);
  const fromToken = caller && !config.jwt.adminRoles.includes(String(caller.role ?? '')) ? tokenAudience(caller) : undefined;
  return {
    ip: sbForwardedFor(req, config) ?? clientIp(req),
    userAgent: req.header('user-agent') ?? null,
    aud: header || fromToken || config.jwt.aud,
  };
}
