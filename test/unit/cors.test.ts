import cors from 'cors';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config';
import { corsPolicy } from '../../src/http/middleware/cors';

/** The configuration the server used with the `cors` package before corsPolicy wrote the headers itself: the oracle. */
const config = { cors: { allowedHeaders: ['X-Extra-One', 'X-Extra-Two'] } } as unknown as Config;
const reflectable = (origin: string) => origin.length <= 2048 && /^[\x21-\x7e]*$/.test(origin);
const packaged = cors({
  origin: (origin, allow) => allow(null, origin === undefined || reflectable(origin)),
  credentials: true,
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  allowedHeaders: ['Accept', 'Authorization', 'Content-Type', 'X-Client-IP', 'X-Client-Info', 'X-JWT-AUD', 'apikey', 'X-Supabase-Api-Version', 'X-Extra-One', 'X-Extra-Two'],
  exposedHeaders: ['X-Total-Count', 'Link', 'X-Supabase-Api-Version'],
  maxAge: 86400,
});

function appWith(policy: RequestHandler) {
  const app = express();
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('Vary', 'Accept-Encoding');
    next();
  });
  app.use(policy);
  app.all('/{*any}', (_req, res) => void res.status(200).json({ ok: true }));
  return app;
}

const ORIGINS = [undefined, '', 'https://app.example.com', 'null', 'http://localhost:3000', 'https://caf\u00e9.example', `https://${'a'.repeat(2100)}.example`];
const METHODS = ['GET', 'POST', 'OPTIONS', 'DELETE'] as const;

describe('CORS (corsPolicy)', () => {
  it('answers every request exactly as the cors package configured the same way did: status and headers', async () => {
    const ours = appWith(corsPolicy(config));
    const theirs = appWith(packaged);
    for (const origin of ORIGINS) {
      for (const method of METHODS) {
        for (const requestHeaders of [undefined, 'authorization,apikey']) {
          const send = async (app: express.Express) => {
            let r = request(app)[method.toLowerCase() as 'get']('/auth/v1/token');
            if (origin !== undefined) r = r.set('Origin', origin);
            if (requestHeaders !== undefined) r = r.set('Access-Control-Request-Headers', requestHeaders).set('Access-Control-Request-Method', 'POST');
            const res = await r;
            const { date: _date, connection: _c, 'keep-alive': _k, ...headers } = res.headers;
            return { status: res.status, headers };
          };
          expect(await send(ours), `${method} from ${origin?.slice(0, 40)} (${requestHeaders})`).toEqual(await send(theirs));
        }
      }
    }
  });
});
