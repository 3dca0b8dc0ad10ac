import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createHs256Jwt, JwtError } from '../../src/crypto/jwt';

const secret = 'a-secret-that-is-long-enough-for-hs256!!';
const fixed = (t: number) => ({ now: () => new Date(t * 1000) });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('HS256 JWT service', () => {
  const now = 1_800_000_000;
  const svc = createHs256Jwt(secret, fixed(now));
  const claims = { sub: 'u1', role: 'authenticated', iat: now, exp: now + 3600 };

  it('round-trips claims', () => {
    expect(svc.verify(svc.sign(claims))).toMatchObject(claims);
  });

  it('puts kid in the header only when a key id is configured', () => {
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString());
    expect(header(svc.sign(claims))).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(header(createHs256Jwt(secret, fixed(now), 'k1').sign(claims)).kid).toBe('k1');
  });

  it('refuses an expired token', () => {
    const later = createHs256Jwt(secret, fixed(now + 3601));
    expect(() => later.verify(svc.sign(claims))).toThrow(/expired/);
  });

  it('refuses alg none', () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect(() => svc.verify(token)).toThrow(JwtError);
  });

  it('refuses a token signed with another key', () => {
    expect(() => svc.verify(createHs256Jwt('another-secret-that-is-long-enough-xx', fixed(now)).sign(claims))).toThrow(JwtError);
  });

  it('refuses HS384 and RS256 tokens even when they verify under their own key', () => {
    const hs384 = jwt.sign(claims, secret, { algorithm: 'HS384' });
    expect(() => svc.verify(hs384)).toThrow(JwtError);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => svc.verify(jwt.sign(claims, privateKey, { algorithm: 'RS256' }))).toThrow(JwtError);
  });

  it('refuses a tampered payload', () => {
    const [h, , s] = svc.sign(claims).split('.');
    expect(() => svc.verify(`${h}.${b64({ ...claims, role: 'service_role' })}.${s}`)).toThrow(JwtError);
  });

  it('signs exactly as HMAC-SHA256 over header.payload (interoperable with other verifiers)', () => {
    const token = svc.sign(claims);
    const [h, p, s] = token.split('.');
    expect(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')).toBe(s);
  });
});
