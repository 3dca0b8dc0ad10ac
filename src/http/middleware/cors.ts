import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';

const DEFAULT_HEADERS = ['Accept', 'Authorization', 'Content-Type', 'X-Client-IP', 'X-Client-Info', 'X-JWT-AUD', 'apikey', 'X-Supabase-Api-Version'];

/** GoTrue's CORS: any origin, all methods, credentials, its header lists plus GOTRUE_CORS_ALLOWED_HEADERS. */
export function corsPolicy(config: Config): RequestHandler {
  return cors({
    origin: true,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    allowedHeaders: [...DEFAULT_HEADERS, ...config.cors.allowedHeaders],
    exposedHeaders: ['X-Total-Count', 'Link', 'X-Supabase-Api-Version'],
    maxAge: 86400,
  });
}
