import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import type { JwtAlgorithm } from '../../src/config/jwt-keys';
import { createSigner, JwtError, type Signer } from '../../src/crypto/signer';

const SECRET = 'a-secret-that-is-long-enough-for-hs256!!';
const NOW = 1_800_000_000;
const clock = (t = NOW) => ({ now: () => new Date(t * 1000) });
const claims = { sub: 'u1', role: 'authenticated', iat: NOW, exp: NOW + 3600 };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const headerOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;

/** A private JWK as `./gotrue keys generate` prints it. */
function privateJwk(alg: Exclude<JwtAlgorithm, 'HS256'>, ops: string[] = ['sign', 'verify']): JsonWebKey & { kid: string } {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig', key_ops: ops };
}
const octJwk = (ops: string[]) => ({ kty: 'oct', k: randomBytes(32).toString('base64url'), kid: randomUUID(), alg: 'HS256', key_ops: ops });
const publicPart = (jwk: JsonWebKey) => Object.fromEntries(Object.entries(jwk).filter(([k]) => !['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(k)));

/** The server's signer for this GOTRUE_JWT_KEYS (and GOTRUE_JWT_VALID_METHODS), built through the config loader. */
function signerFor(keys: unknown[], env: Record<string, string> = {}, t = NOW): Signer {
  const config = loadConfig({ GOTRUE_JWT_SECRET: SECRET, GOTRUE_JWT_KEYS: JSON.stringify(keys), ...env });
  return createSigner({ ...config.jwt, secret: SECRET }, clock(t));
}
const hs256 = createSigner({ secret: SECRET, keys: [], validMethods: ['HS256'] }, clock());

describe.each(['RS256', 'ES256', 'EdDSA'] as const)('a %s signing key in GOTRUE_JWT_KEYS', (alg) => {
  const jwk = privateJwk(alg);
  const signer = signerFor([jwk]);

  it('signs with it, naming its kid, and verifies what it signed', async () => {
    const token = await signer.sign(claims);
    expect(headerOf(token)).toEqual({ alg, typ: 'JWT', kid: jwk.kid });
    expect(await signer.verify(token)).toEqual(claims);
  });

  it('publishes its public half in the JWKS, and a stock JOSE library verifies the token against it', async () => {
    const { keys } = signer.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kid: jwk.kid, alg, use: 'sig', key_ops: ['verify'], kty: jwk.kty });
    expect(keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(await signer.sign(claims), createLocalJWKSet({ keys }), { currentDate: new Date(NOW * 1000) });
    expect([payload, protectedHeader.kid]).toEqual([claims, jwk.kid]);
  });

  it('still verifies the HS256 secret’s tokens (anon and service_role keys, no kid) by default', async () => {
    expect(await signer.verify(await hs256.sign({ role: 'anon', exp: NOW + 10 }))).toMatchObject({ role: 'anon' });
    expect(signer.algorithms).toEqual([alg, 'HS256']);
  });

  it('refuses the secret’s tokens when GOTRUE_JWT_VALID_METHODS leaves HS256 out', async () => {
    const strict = signerFor([jwk], { GOTRUE_JWT_VALID_METHODS: alg });
    await expect(strict.verify(await hs256.sign(claims))).rejects.toThrow(new JwtError('invalid JWT: unable to parse or verify signature, invalid algorithm'));
    expect(await strict.verify(await strict.sign(claims))).toEqual(claims);
  });

  it('refuses an expired token with the message GoTrue gives', async () => {
    const later = signerFor([jwk], {}, NOW + 3601);
    await expect(later.verify(await signer.sign(claims))).rejects.toThrow(
      new JwtError('invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired'),
    );
  });

  it('refuses a tampered payload and a token signed by another key under the same kid', async () => {
    const [h, , s] = (await signer.sign(claims)).split('.');
    await expect(signer.verify(`${h}.${b64({ ...claims, role: 'service_role' })}.${s}`)).rejects.toThrow(
      new JwtError('invalid JWT: unable to parse or verify signature, invalid signature'),
    );
    const impostor = signerFor([{ ...privateJwk(alg), kid: jwk.kid }]);
    await expect(signer.verify(await impostor.sign(claims))).rejects.toThrow(JwtError);
  });

  it('refuses an HS256 token carrying its kid, even one MACed with its public key (no alg confusion)', async () => {
    const pub = JSON.stringify(signer.jwks().keys[0]);
    const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64(claims)}`;
    const forged = `${head}.${createHmac('sha256', pub).update(head).digest('base64url')}`;
    await expect(signer.verify(forged)).rejects.toThrow(new JwtError('invalid JWT: unable to parse or verify signature, invalid algorithm'));
  });

  it('refuses alg none with its kid, and its alg under an unknown kid', async () => {
    await expect(signer.verify(`${b64({ alg: 'none', kid: jwk.kid })}.${b64(claims)}.`)).rejects.toThrow(/invalid algorithm/);
    const stranger = signerFor([{ ...privateJwk(alg), kid: 'stranger' }]);
    await expect(signer.verify(await stranger.sign(claims))).rejects.toThrow(
      new JwtError(`invalid JWT: unable to parse or verify signature, unrecognized JWT kid stranger for algorithm ${alg}`),
    );
  });
});

describe('rotation: a new signing key in front, the old one kept verify-only', () => {
  const oldKey = privateJwk('RS256');
  const newKey = privateJwk('ES256');
  const before = signerFor([oldKey]);
  const during = signerFor([newKey, { ...oldKey, key_ops: ['verify'] }]);
  const publicOnly = signerFor([newKey, { ...publicPart(oldKey), key_ops: ['verify'] }]);
  const after = signerFor([newKey]);

  it('new tokens carry the new kid; old tokens still verify; both keys are published', async () => {
    const old = await before.sign(claims);
    const fresh = await during.sign(claims);
    expect(headerOf(fresh).kid).toBe(newKey.kid);
    expect(await during.verify(old)).toEqual(claims);
    expect(await during.verify(fresh)).toEqual(claims);
    expect(during.jwks().keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);
    expect(during.algorithms).toEqual(['ES256', 'RS256', 'HS256']);
  });

  it('a verify-only key may be given as its public JWK alone', async () => {
    expect(await publicOnly.verify(await before.sign(claims))).toEqual(claims);
    expect(publicOnly.jwks().keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);
  });

  it('once the old key is removed, its tokens are refused', async () => {
    // RS256 left the default GOTRUE_JWT_VALID_METHODS with the key; an ES256 key's stray token meets no kid.
    await expect(after.verify(await before.sign(claims))).rejects.toThrow(/invalid algorithm/);
    const sameAlg = signerFor([privateJwk('ES256')]);
    await expect(sameAlg.verify(await during.sign(claims))).rejects.toThrow(/unrecognized JWT kid/);
  });
});

describe('an oct (HS256) key in GOTRUE_JWT_KEYS', () => {
  const oct = octJwk(['sign', 'verify']);
  const signer = signerFor([oct]);

  it('signs HS256 with its own secret and kid, and is never published', async () => {
    const token = await signer.sign(claims);
    expect(headerOf(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: oct.kid });
    const [h, p, s] = token.split('.');
    expect(createHmac('sha256', Buffer.from(oct.k, 'base64url')).update(`${h}.${p}`).digest('base64url')).toBe(s);
    expect(await signer.verify(token)).toEqual(claims);
    expect(signer.jwks()).toEqual({ keys: [] });
  });

  it('its tokens do not verify under the secret, nor the secret’s under its kid', async () => {
    await expect(hs256.verify(await signer.sign(claims))).rejects.toThrow(/invalid signature/);
    const underItsKid = await createSigner({ secret: SECRET, keyId: oct.kid, keys: [], validMethods: ['HS256'] }, clock()).sign(claims);
    await expect(signer.verify(underItsKid)).rejects.toThrow(/invalid signature/);
  });

  it('the secret still verifies tokens without a kid and with GOTRUE_JWT_KEY_ID', async () => {
    const withKeyId = createSigner({ secret: SECRET, keyId: 'legacy', keys: [], validMethods: ['HS256'] }, clock());
    expect(await signer.verify(await hs256.sign(claims))).toEqual(claims);
    expect(await signer.verify(await withKeyId.sign(claims))).toEqual(claims);
  });
});

describe('tokens from jose itself', () => {
  it('verify when signed by the configured key (interoperable with other signers of the same key)', async () => {
    const jwk = privateJwk('EdDSA');
    const signer = signerFor([jwk]);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid }).sign(createPrivateKey({ key: jwk, format: 'jwk' }));
    expect(await signer.verify(token)).toEqual(claims);
  });
});

describe('sign(claims, {alg, typ}): a resource server\'s algorithm (issue 15, item 4)', () => {
  const rs = privateJwk('RS256');
  const es = privateJwk('ES256', ['verify']);
  const esPublic = { ...publicPart(privateJwk('ES256', ['verify'])), kid: randomUUID() };
  const oct = octJwk(['verify']);
  const signer = signerFor([rs, es, oct]);

  it('picks the key of that alg (the signing key for its own), sets typ, and verifies what it signed', async () => {
    for (const [alg, kid] of [['RS256', rs.kid], ['ES256', es.kid], ['HS256', oct.kid]] as const) {
      const token = await signer.sign(claims, { alg, typ: 'at+jwt' });
      expect(headerOf(token)).toEqual({ alg, typ: 'at+jwt', kid });
      expect(await signer.verify(token)).toEqual(claims);
    }
    expect(headerOf(await signer.sign(claims))).toEqual({ alg: 'RS256', typ: 'JWT', kid: rs.kid });
  });

  it('refuses an alg no key with a private part has', async () => {
    await expect(signer.sign(claims, { alg: 'EdDSA' })).rejects.toThrow(/no key of GOTRUE_JWT_KEYS signs EdDSA/);
    await expect(signerFor([rs, esPublic]).sign(claims, { alg: 'ES256' })).rejects.toThrow(/signs ES256/);
  });
});
