import { readdirSync } from 'node:fs';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-cli-keys-');

const SECRET = 'cli-keys-test-secret-that-is-32-bytes-long';
const SPAWNING = { timeout: 180_000 };

/** The public half of a private JWK as a verifier would hold it. */
const publicOf = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ...pub }: JWK) => pub;

describe('./gotrue keys generate', SPAWNING, () => {
  it.each([
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['RS256', { kty: 'RSA' }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
  ])('--alg %s prints a private JWK that GOTRUE_JWT_KEYS takes; ./gotrue keys then signs the API keys with it', async (alg, shape) => {
    const cwd = tempDir();
    const generated = await runCli(['keys', 'generate', '--alg', alg], cwd, cleanEnv());
    expect([generated.code, generated.stderr]).toEqual([0, '']);
    const jwk = JSON.parse(generated.stdout) as JWK & { kid: string };
    expect(jwk).toMatchObject({ ...shape, alg, use: 'sig', key_ops: ['sign', 'verify'] });
    expect(jwk.kid).toMatch(/^[0-9a-f-]{36}$/);
    expect(jwk.d).toEqual(expect.any(String));

    const keys = await runCli(['keys'], cwd, cleanEnv({ GOTRUE_JWT_SECRET: SECRET, GOTRUE_JWT_KEYS: `[${generated.stdout.trim()}]` }));
    expect(keys.code, keys.stderr).toBe(0);
    const [, anon, serviceRole] = /^anon: (\S+)\nservice_role: (\S+)$/m.exec(keys.stdout)!;
    expect(decodeProtectedHeader(serviceRole!)).toEqual({ alg, typ: 'JWT', kid: jwk.kid });
    const key = await importJWK(publicOf(jwk), alg);
    expect((await jwtVerify(anon!, key)).payload.role).toBe('anon');
    expect((await jwtVerify(serviceRole!, key)).payload.role).toBe('service_role');
  });

  it('exits 2 with the usage for a missing or unsupported --alg and an unknown argument', async () => {
    const cases: [string[], RegExp][] = [
      [['keys', 'generate'], /--alg is required/],
      [['keys', 'generate', '--alg', 'HS256'], /unsupported --alg "HS256"/],
      [['keys', 'rotate'], /unknown argument "rotate"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, tempDir(), cleanEnv())));
    for (const [i, r] of runs.entries()) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).toMatch(/Usage: gotrue keys/);
    }
  });

  it('on Postgres needs only a signing key: no site or external URL, no reachable database', async () => {
    // Port 1 answers nothing: keys must not connect.
    const postgres = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    const withSecret = await runCli(['keys'], tempDir(), cleanEnv({ ...postgres, GOTRUE_JWT_SECRET: SECRET }));
    expect([withSecret.code, withSecret.stderr]).toEqual([0, '']);
    const anon = /^anon: (\S+)$/m.exec(withSecret.stdout)![1]!;
    expect((await jwtVerify(anon, new TextEncoder().encode(SECRET))).payload.role).toBe('anon');

    const cwd = tempDir();
    const jwk = JSON.parse((await runCli(['keys', 'generate', '--alg', 'ES256'], cwd, cleanEnv())).stdout) as JWK & { kid: string };
    const withKeys = await runCli(['keys'], cwd, cleanEnv({ ...postgres, GOTRUE_JWT_KEYS: JSON.stringify([jwk]) }));
    expect([withKeys.code, withKeys.stderr]).toEqual([0, '']);
    const serviceRole = /^service_role: (\S+)$/m.exec(withKeys.stdout)![1]!;
    expect((await jwtVerify(serviceRole, await importJWK(publicOf(jwk), 'ES256'))).payload.role).toBe('service_role');

    const neither = await runCli(['keys'], cwd, cleanEnv(postgres));
    expect(neither.code).toBe(1);
    expect(neither.stderr.trim()).toBe(
      'gotrue: invalid configuration: GOTRUE_JWT_SECRET: required when DATABASE_URL is set (or a GOTRUE_JWT_KEYS key with "sign" in its key_ops)',
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('serve stops at start with one clear message for a bad key set', async () => {
    const r = await runCli(['serve'], tempDir(), cleanEnv({ GOTRUE_JWT_SECRET: SECRET, GOTRUE_JWT_KEYS: '[{"kid":"k1","alg":"ES512","kty":"EC"}]' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'gotrue: invalid configuration: GOTRUE_JWT_KEYS: key "k1": "alg" "ES512" is not supported (expected one of RS256, ES256, EdDSA, HS256)\n',
    );
  });
});
