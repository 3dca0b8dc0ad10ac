import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const base = { GOTRUE_JWT_SECRET: 'x'.repeat(40) };

const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', key_ops: ['sign', 'verify'] };
const ecPublic = { kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y, kid: 'ec-pub', alg: 'ES256', key_ops: ['verify'] };
const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', key_ops: ['verify'] };
const smallRsa = { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }), kid: 'rsa-small', alg: 'RS256', key_ops: ['sign'] };
const ed = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'EdDSA', key_ops: ['verify'] };
const oct = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'oct-1', alg: 'HS256', key_ops: ['verify'] };
const privateParts = [ec.d, rsa.d, ed.d, oct.k, smallRsa.d].filter((v): v is string => typeof v === 'string');

/** The problems loadConfig reports for these settings (none = []). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}
const keys = (...k: unknown[]) => ({ GOTRUE_JWT_KEYS: JSON.stringify(k) });

describe('GOTRUE_JWT_KEYS', () => {
  it('reads a signing key and verify-only keys of every supported kind, in order', () => {
    const c = loadConfig({ ...base, ...keys(ec, rsa, ed, oct, ecPublic) });
    expect(c.jwt.keys.map((k) => [k.kid, k.alg, k.sign])).toEqual([
      ['ec-1', 'ES256', true],
      ['rsa-1', 'RS256', false],
      ['ed-1', 'EdDSA', false],
      ['oct-1', 'HS256', false],
      ['ec-pub', 'ES256', false],
    ]);
    expect(c.jwt.validMethods).toEqual(['ES256', 'RS256', 'EdDSA', 'HS256']);
  });

  it('unset or [] means no key set: the secret signs HS256', () => {
    expect(loadConfig(base).jwt).toMatchObject({ keys: [], validMethods: ['HS256'] });
    expect(loadConfig({ ...base, GOTRUE_JWT_KEYS: '[]' }).jwt).toMatchObject({ keys: [], validMethods: ['HS256'] });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['unparseable JSON', { GOTRUE_JWT_KEYS: `[{"kid": "a", "d": "${String(ec.d)}"` }, /GOTRUE_JWT_KEYS: is not valid JSON/],
    ['a JSON object, not an array', { GOTRUE_JWT_KEYS: JSON.stringify(ec) }, /GOTRUE_JWT_KEYS: expected a JSON array of JWKs/],
    ['an item that is not an object', keys('ec-1'), /GOTRUE_JWT_KEYS: key 1 is not a JSON object/],
    ['a key without kid', keys({ ...ec, kid: undefined }), /GOTRUE_JWT_KEYS: key 1 has no "kid"/],
    ['a key without alg', keys({ ...ec, alg: undefined }), /GOTRUE_JWT_KEYS: key "ec-1": "alg" is missing \(expected one of RS256, ES256, EdDSA, HS256\)/],
    ['an unknown alg', keys({ ...ec, alg: 'ES512' }), /GOTRUE_JWT_KEYS: key "ec-1": "alg" "ES512" is not supported/],
    ['alg none', keys({ ...oct, alg: 'none', key_ops: ['sign'] }), /"alg" "none" is not supported/],
    ['an alg that does not fit the key type', keys({ ...ec, alg: 'RS256' }), /key "ec-1": alg RS256 needs kty "RSA"/],
    ['an Ed448 key named EdDSA', keys({ ...ed, crv: 'Ed448', key_ops: ['sign'] }), /key "ed-1": alg EdDSA needs kty "OKP" with crv "Ed25519"/],
    ['a signing key missing its private part', keys({ ...ecPublic, key_ops: ['sign', 'verify'] }), /key "ec-pub" signs \("sign" in key_ops\) but its private part "d" is missing/],
    ['key material that does not import', keys({ ...ec, x: 'AAAA' }), /key "ec-1": the key material does not import as a private kty "EC" with crv "P-256" key/],
    ['an RSA key under 2048 bits', keys(smallRsa), /key "rsa-small": an RSA key must be at least 2048 bits/],
    ['a short oct key', keys({ ...oct, k: randomBytes(16).toString('base64url'), key_ops: ['sign'] }), /key "oct-1": an HS256 key must be at least 32 bytes/],
    ['an oct key without k', keys({ ...oct, k: undefined, key_ops: ['sign'] }), /key "oct-1": an "oct" key needs its secret "k"/],
    ['key_ops other than sign and verify', keys({ ...ec, key_ops: ['encrypt'] }), /key "ec-1": "key_ops" must be a list of "sign" and "verify"/],
    ['use other than sig', keys({ ...ec, use: 'enc' }), /key "ec-1": "use" must be "sig"/],
    ['the same kid twice', keys(ec, { ...rsa, kid: 'ec-1' }), /GOTRUE_JWT_KEYS: kid "ec-1" appears twice/],
    ['no signing key', keys(rsa, ed), /GOTRUE_JWT_KEYS: no key has "sign" in its key_ops: exactly one key must sign/],
    ['two signing keys', keys(ec, { ...rsa, key_ops: ['sign', 'verify'] }), /GOTRUE_JWT_KEYS: keys "ec-1" and "rsa-1" all have "sign" in their key_ops: exactly one key signs/],
  ])('stops the server on %s, with one clear message', (_name, env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    for (const secret of privateParts) expect(problems[0]).not.toContain(secret);
  });
});

describe('GOTRUE_JWT_VALID_METHODS', () => {
  it('defaults to the key set’s algorithms plus HS256, the signing key’s first', () => {
    expect(loadConfig({ ...base, ...keys(oct, { ...ed, key_ops: ['sign'] }, rsa) }).jwt.validMethods).toEqual(['EdDSA', 'HS256', 'RS256']);
  });

  it('takes GoTrue’s comma-separated list, the signing key’s algorithm first', () => {
    expect(loadConfig({ ...base, ...keys(ec, rsa), GOTRUE_JWT_VALID_METHODS: 'RS256, ES256' }).jwt.validMethods).toEqual(['ES256', 'RS256']);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['an unknown method', { ...keys(ec), GOTRUE_JWT_VALID_METHODS: 'ES256,PS256' }, /GOTRUE_JWT_VALID_METHODS: expected a comma-separated list of RS256, ES256, EdDSA, HS256; got "PS256"/],
    ['none', { GOTRUE_JWT_VALID_METHODS: 'none' }, /GOTRUE_JWT_VALID_METHODS: .*got "none"/],
    ['a list without the signing key’s algorithm', { ...keys(ec), GOTRUE_JWT_VALID_METHODS: 'HS256' }, /GOTRUE_JWT_VALID_METHODS: must include ES256, the algorithm of the signing key/],
    ['HS256 left out with no key set', { GOTRUE_JWT_VALID_METHODS: 'RS256' }, /must include HS256/],
  ])('refuses %s', (_name, env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe('GOTRUE_SECURITY_REFRESH_TOKEN_SECRET', () => {
  it('is unset by default (the refresh-token key then derives from the JWT secret) and read when set', () => {
    expect(loadConfig(base).jwt.refreshTokenSecret).toBeUndefined();
    expect(loadConfig({ ...base, GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: 'r'.repeat(32) }).jwt.refreshTokenSecret).toBe('r'.repeat(32));
  });

  it('must be at least 32 bytes', () => {
    expect(problemsOf({ GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: 'short' })).toEqual(['GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: must be at least 32 bytes']);
  });
});
