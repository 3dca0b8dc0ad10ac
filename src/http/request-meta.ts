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

export function requestMeta(req: Request, config: Config): RequestMeta {
  const aud = req.header('x-jwt-aud');
  return {
    ip: clientIp(req),
    userAgent: req.header('user-agent') ?? null,
    aud: aud && aud.trim() !== '' ? aud.trim() : config.jwt.aud,
  };
}
