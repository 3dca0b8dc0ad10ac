import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';

const DEFAULT_HEADERS = ['Accept', 'Authorization', 'Content-Type', 'X-Client-IP', 'X-Client-Info', 'X-JWT-AUD', 'apikey', 'X-Supabase-Api-Version'];

/**
 * An Origin a browser can send: an ASCII serialization (`scheme://host[:port]`, or `null`), of a sane length. Any
 * other value comes from a non-browser client and is not reflected: a Latin-1 one is written back as UTF-8, twice its
 * size, and a long one grows the reply past what clients parse (Node's limit is 16 KiB of headers).
 */
const reflectable = (origin: string) => origin.length <= 2048 && /^[\x21-\x7e]*$/.test(origin);

/** GoTrue's CORS: any origin, all methods, credentials, its header lists plus GOTRUE_CORS_ALLOWED_HEADERS. */
export function corsPolicy(config: Config): RequestHandler {
  return cors({
    origin: (origin, allow) => allow(null, origin === undefined || reflectable(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    allowedHeaders: [...DEFAULT_HEADERS, ...config.cors.allowedHeaders],
    exposedHeaders: ['X-Total-Count', 'Link', 'X-Supabase-Api-Version'],
    maxAge: 86400,
  });
}
