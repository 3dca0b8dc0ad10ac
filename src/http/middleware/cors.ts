import type { RequestHandler } from 'express';
import type { Config } from '../../config';

const DEFAULT_HEADERS = ['Accept', 'Authorization', 'Content-Type', 'X-Client-IP', 'X-Client-Info', 'X-JWT-AUD', 'apikey', 'X-Supabase-Api-Version'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const EXPOSED = ['X-Total-Count', 'Link', 'X-Supabase-Api-Version'];
const MAX_AGE_SECONDS = 86400;

/**
 * An Origin a browser can send: an ASCII serialization (`scheme://host[:port]`, or `null`), of a sane length. Any
 * other value comes from a non-browser client and is not reflected: a Latin-1 one is written back as UTF-8, twice its
 * size, and a long one grows the reply past what clients parse (Node's limit is 16 KiB of headers).
 */
const reflectable = (origin: string) => origin.length <= 2048 && /^[\x21-\x7e]*$/.test(origin);

/**
 * GoTrue's CORS: any origin (reflected, `Vary: Origin`), all methods, credentials, its header lists plus
 * GOTRUE_CORS_ALLOWED_HEADERS; a preflight is answered 204 here. The headers are what the `cors` package wrote with
 * these options (test/unit/cors.test.ts holds the two side by side), with the header lists joined once at start
 * rather than on every request. A request whose Origin is not reflectable gets no CORS header at all.
 */
export function corsPolicy(config: Config): RequestHandler {
  const allowHeaders = [...DEFAULT_HEADERS, ...config.cors.allowedHeaders].join(',');
  const methods = METHODS.join(',');
  const exposed = EXPOSED.join(',');
  const maxAge = String(MAX_AGE_SECONDS);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !reflectable(origin)) {
      next();
      return;
    }
    if (origin) res.setHeader('Access-Control-Allow-Origin', origin);
    res.vary('Origin');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method !== 'OPTIONS') {
      res.setHeader('Access-Control-Expose-Headers', exposed);
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', methods);
    res.setHeader('Access-Control-Allow-Headers', allowHeaders);
    res.setHeader('Access-Control-Max-Age', maxAge);
    res.setHeader('Access-Control-Expose-Headers', exposed);
    // Safari waits for a body on a 204 without Content-Length.
    res.statusCode = 204;
    res.setHeader('Content-Length', '0');
    res.end();
  };
}
