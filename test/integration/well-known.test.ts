import { generateKeyPairSync, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { openTestDatabase } from '../helpers/test-db';
import { testDeps } from '../helpers/test-server';

let db: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

const es = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'es-new', alg: 'ES256', key_ops: ['sign', 'verify'] };
const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'rs-old', alg: 'RS256', key_ops: ['verify'] };
const oct = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'hs-old', alg: 'HS256', key_ops: ['verify'] };
const appWith = (env: Record<string, string> = {}) => createApp(testDeps(db, env));

describe('GET /.well-known/jwks.json', () => {
  it('is {keys: []} when only the HS256 secret signs, cacheable for ten minutes, under / and /auth/v1', async () => {
    const app = appWith();
    for (const path of ['/.well-known/jwks.json', '/auth/v1/.well-known/jwks.json']) {
      const r = await request(app).get(path);
      expect([r.status, r.body, r.headers['cache-control']]).toEqual([200, { keys: [] }, 'public, max-age=600']);
    }
  });

  it('lists the public half of every asymmetric key, never an oct key, never a private part', async () => {
    const r = await request(appWith({ GOTRUE_JWT_KEYS: JSON.stringify([es, rsa, oct]) })).get('/.well-known/jwks.json');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      keys: [
        { kty: 'EC', crv: 'P-256', x: es.x, y: es.y, kid: 'es-new', alg: 'ES256', use: 'sig', key_ops: ['verify'] },
        { kty: 'RSA', n: rsa.n, e: rsa.e, kid: 'rs-old', alg: 'RS256', use: 'sig', key_ops: ['verify'] },
      ],
    });
    for (const secret of [es.d, rsa.d, rsa.p, rsa.q, oct.k]) expect(r.text).not.toContain(String(secret));
  });
});

describe('GET /.well-known/openid-configuration', () => {
  it('names API_EXTERNAL_URL as the issuer by default, the JWKS beside it, and the accepted algorithms', async () => {
    const app = appWith({ GOTRUE_JWT_KEYS: JSON.stringify([es, rsa]) });
    for (const path of ['/.well-known/openid-configuration', '/auth/v1/.well-known/openid-configuration']) {
      const r = await request(app).get(path);
      expect([r.status, r.headers['cache-control']]).toEqual([200, 'public, max-age=600']);
      expect(r.body).toEqual({
        issuer: 'http://localhost:9999',
        jwks_uri: 'http://localhost:9999/.well-known/jwks.json',
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256', 'RS256', 'HS256'],
      });
    }
  });

  it('names GOTRUE_JWT_ISSUER as the issuer when set (the iss claim of the tokens)', async () => {
    const r = await request(appWith({ GOTRUE_JWT_ISSUER: 'https://auth.example.com/auth/v1', API_EXTERNAL_URL: 'https://auth.example.com/auth/v1/' })).get(
      '/.well-known/openid-configuration',
    );
    expect(r.body).toMatchObject({
      issuer: 'https://auth.example.com/auth/v1',
      jwks_uri: 'https://auth.example.com/auth/v1/.well-known/jwks.json',
      id_token_signing_alg_values_supported: ['HS256'],
    });
  });
});
