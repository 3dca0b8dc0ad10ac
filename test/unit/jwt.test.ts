import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createSigner, JwtError } from '../../src/crypto/signer';

const secret = 'a-secret-that-is-long-enough-for-hs256!!';
const fixed = (t: number) => ({ now: () => new Date(t * 1000) });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const hs256 = (t: number, key = secret, keyId?: string) => createSigner({ secret: key, keyId, keys: [], validMethods: ['HS256'] }, fixed(t));

describe('the signer over the HS256 secret (no GOTRUE_JWT_KEYS)', () => {
  const now = 1_800_000_000;
  const svc = hs256(now);
  const claims = { sub: 'u1', role: 'authenticated', iat: now, exp: now + 3600 };

  it('round-trips exactly the claims it was given', async () => {
    expect(await svc.verify(await svc.sign(claims))).toEqual(claims);
  });

  it('puts kid in the header only when a key id is configured, and verifies either way', async () => {
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString());
    expect(header(await svc.sign(claims))).toEqual({ alg: 'HS256', typ: 'JWT' });
    const withKid = await hs256(now, secret, 'k1').sign(claims);
    expect(header(withKid)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    expect(await svc.verify(withKid)).toEqual(claims);
  });

  it('refuses an expired token with the message GoTrue gives', async () => {
    await expect(hs256(now + 3601).verify(await svc.sign(claims))).rejects.toThrow(
      'invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired',
    );
  });

  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    await expect(svc.verify(token)).rejects.toThrow(new JwtError('invalid JWT: unable to parse or verify signature, invalid algorithm'));
  });

  it('refuses a token signed with another key', async () => {
    const forged = await hs256(now, 'another-secret-that-is-long-enough-xx').sign(claims);
    await expect(svc.verify(forged)).rejects.toThrow(new JwtError('invalid JWT: unable to parse or verify signature, invalid signature'));
  });

  it('refuses HS384 and RS256 tokens even when they verify under their own key', async () => {
    const hs384 = jwt.sign(claims, secret, { algorithm: 'HS384' });
    await expect(svc.verify(hs384)).rejects.toThrow(JwtError);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(svc.verify(jwt.sign(claims, privateKey, { algorithm: 'RS256' }))).rejects.toThrow(JwtError);
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await svc.sign(claims)).split('.');
    await expect(svc.verify(`${h}.${b64({ ...claims, role: 'service_role' })}.${s}`)).rejects.toThrow(JwtError);
  });

  it.each(['not-a-jwt', 'x.y.z', '', '..'])('refuses the garbage %j as malformed', async (garbage) => {
    await expect(svc.verify(garbage)).rejects.toThrow(/^invalid JWT: unable to parse or verify signature, /);
  });

  it('publishes no keys: the secret never appears in the JWKS', () => {
    expect(svc.jwks()).toEqual({ keys: [] });
  });

  it('signs exactly as HMAC-SHA256 over header.payload (interoperable with other verifiers)', async () => {
    const token = await svc.sign(claims);
    const [h, p, s] = token.split('.');
    expect(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')).toBe(s);
  });
});
