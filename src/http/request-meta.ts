import { isIP } from 'node:net';
import type { Request } from 'express';
import type { Config } from '../config';
import type { RequestMeta } from '../domain/request-meta';

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
export function sbForwardedFor(req: Request, config: Config): string | undefined {
  if (!config.rateLimit.sbForwardedForEnabled) return undefined;
  const first = req.header('sb-forwarded-for')?.split(',')[0]?.trim();
  return first && isIP(first) ? first : undefined;
}

export function requestMeta(req: Request, config: Config): RequestMeta {
  const aud = req.header('x-jwt-aud');
  return {
    ip: sbForwardedFor(req, config) ?? clientIp(req),
    userAgent: req.header('user-agent') ?? null,
    aud: aud && aud.trim() !== '' ? aud.trim() : config.jwt.aud,
  };
}
