import type { Request } from 'express';
import type { Config } from '../config';
import { resolveRedirectTo } from '../services/redirect-url';

/** The redirect_to a request names (query, else the `redirect_to` header), without validation. */
export function redirectCandidate(req: Request): string | undefined {
  const q = req.query.redirect_to;
  if (typeof q === 'string' && q !== '') return q;
  const h = req.header('redirect_to');
  return h && h !== '' ? h : undefined;
}

/** The validated redirect target of contract §6.7: redirect_to if allowed, else the Referer, else SITE_URL. */
export function requestRedirectTo(req: Request, config: Pick<Config, 'siteUrl' | 'uriAllowList'>): string {
  return resolveRedirectTo(config, redirectCandidate(req), req.header('referer'));
}
