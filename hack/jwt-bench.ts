/**
 * npx tsx hack/jwt-bench.ts — sign and verify operations per second of an access token (GoTrue's claims), single
 * thread: the signer for each algorithm, against the two HS256 baselines it must not fall behind:
 * jsonwebtoken over a KeyObject (what signed and verified tokens before the signer) and jose's HS256.
 * BENCH_MS: milliseconds per measurement (1500).
 */
import { createSecretKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../src/config';
import { systemClock } from '../src/crypto/clock';
import { createSigner, type Signer } from '../src/crypto/signer';

const ms = Number(process.env.BENCH_MS ?? 1500);
const secret = 'a-secret-that-is-long-enough-for-hs256!!';
const now = Math.floor(Date.now() / 1000);
const claims = {
  sub: randomUUID(),
  aud: 'authenticated',
  exp: now + 3600,
  iat: now,
  email: 'someone@example.com',
  phone: '',
  app_metadata: { provider: 'email', providers: ['email'] },
  user_metadata: {},
  role: 'authenticated',
  aal: 'aal1',
  amr: [{ method: 'password', timestamp: now }],
  session_id: randomUUID(),
  is_anonymous: false,
};

async function opsPerSecond(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

async function row(name: string, sign: () => unknown, verify: () => unknown) {
  const s = await opsPerSecond(sign);
  const v = await opsPerSecond(verify);
  console.log(`${name.padEnd(40)} sign ${s.toLocaleString('en').padStart(8)}/s   verify ${v.toLocaleString('en').padStart(8)}/s`);
}

function signerWith(alg: 'ES256' | 'RS256' | 'EdDSA'): Signer {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const jwk = { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, key_ops: ['sign', 'verify'] };
  const config = loadConfig({ GOTRUE_JWT_SECRET: secret, GOTRUE_JWT_KEYS: JSON.stringify([jwk]) });
  return createSigner({ ...config.jwt, secret }, systemClock);
}

const key = createSecretKey(Buffer.from(secret, 'utf8'));
const header = { alg: 'HS256' as const, typ: 'JWT', kid: 'k1' };
const legacy = jwt.sign(claims, key, { algorithm: 'HS256', header });
await row(
  'before: jsonwebtoken HS256 (KeyObject)',
  () => jwt.sign(claims, key, { algorithm: 'HS256', header }),
  () => jwt.verify(legacy, key, { algorithms: ['HS256'] }),
);
const joseToken = await new SignJWT(claims).setProtectedHeader(header).sign(key);
await row(
  'jose HS256 (KeyObject)',
  () => new SignJWT(claims).setProtectedHeader(header).sign(key),
  () => jwtVerify(joseToken, key, { algorithms: ['HS256'] }),
);
const hs = createSigner({ secret, keyId: 'k1', keys: [], validMethods: ['HS256'] }, systemClock);
const hsToken = await hs.sign(claims);
await row('signer HS256 (GOTRUE_JWT_SECRET)', () => hs.sign(claims), () => hs.verify(hsToken));
for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  const s = signerWith(alg);
  const token = await s.sign(claims);
  await row(`signer ${alg} (GOTRUE_JWT_KEYS)`, () => s.sign(claims), () => s.verify(token));
}
