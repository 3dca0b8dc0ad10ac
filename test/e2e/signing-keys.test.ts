import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { GoTrueAdminApi, GoTrueClient } from '@supabase/auth-js';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/cli/embedded';
import { dbKind, openTestDatabase } from '../helpers/test-db';
import { startTestServer, uniqueEmail, type RunningTestServer, type TestServer } from '../helpers/test-server';
import { forgeJwt, hs256Signer } from '../helpers/tokens';

let db: Awaited<ReturnType<typeof openTestDatabase>>;
const servers: RunningTestServer[] = [];
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await db.close();
});

const ISSUER = 'http://localhost:9999/auth/v1';
type Jwk = Record<string, unknown> & { kid: string; alg: string };

/** A private JWK as `./gotrue keys generate` prints it. */
function signingKey(alg: 'RS256' | 'ES256' | 'EdDSA'): Jwk {
  const pair =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig', key_ops: ['sign', 'verify'] };
}
const verifyOnly = (k: Jwk): Jwk => ({ ...k, key_ops: ['verify'] });

/** The real server over the shared database, with this key set (the HS256 secret is the test secret throughout). */
async function serverWith(keys: Jwk[]): Promise<TestServer> {
  const s = await startTestServer(db, { GOTRUE_JWT_KEYS: JSON.stringify(keys), GOTRUE_JWT_ISSUER: ISSUER });
  servers.push(s);
  return s;
}
const client = (s: TestServer) =>
  new GoTrueClient({ url: `${s.url}/auth/v1`, headers: { apikey: 'x' }, autoRefreshToken: false, persistSession: false, detectSessionInUrl: false });
const adminApi = (s: TestServer, key: string) => new GoTrueAdminApi({ url: `${s.url}/auth/v1`, headers: { apikey: key, Authorization: `Bearer ${key}` } });

/** Verifies a token as a resource server would: jose against the server's published JWKS. */
async function verifyWithJwks(s: TestServer, token: string) {
  const { issuer } = (await (await fetch(`${s.url}/auth/v1/.well-known/openid-configuration`)).json()) as { issuer: string };
  const keySet = createRemoteJWKSet(new URL(`${s.url}/auth/v1/.well-known/jwks.json`));
  return jwtVerify(token, keySet, { issuer, audience: 'authenticated' });
}

async function signUpAndIn(s: TestServer) {
  const email = uniqueEmail('keys');
  expect((await client(s).signUp({ email, password: 'pass-word-1' })).error).toBeNull();
  const auth = client(s);
  const { data, error } = await auth.signInWithPassword({ email, password: 'pass-word-1' });
  expect(error).toBeNull();
  return { auth, email, session: data.session! };
}

/** The HS256 anon and service_role keys a project had before it configured signing keys. */
async function hs256KeysStillWork(s: TestServer) {
  const legacy = await apiKeys(hs256Signer());
  const created = await adminApi(s, legacy.serviceRole).createUser({ email: uniqueEmail('legacy-admin'), email_confirm: true });
  expect(created.error).toBeNull();
  const anon = await adminApi(s, legacy.anon).listUsers();
  expect([anon.error?.status, anon.error?.code]).toEqual([403, 'not_admin']); // verified, just not an admin
  const forged = await adminApi(s, forgeJwt({ role: 'service_role', exp: 9_999_999_999 }, 'not-the-secret-but-32-bytes-long!!!')).listUsers();
  expect([forged.error?.status, forged.error?.code]).toEqual([403, 'bad_jwt']);
}

describe(`signing keys through the real server and @supabase/auth-js (${dbKind})`, () => {
  const rsa = signingKey('RS256');
  const es = signingKey('ES256');
  const ed = signingKey('EdDSA');

  it('RS256 signs → rotate to ES256 keeping RS256 verify-only → rotate to EdDSA dropping RS256', async () => {
    // 1. RS256 signs.
    const first = await serverWith([rsa]);
    const a = await signUpAndIn(first);
    expect(decodeProtectedHeader(a.session.access_token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: rsa.kid });
    const verified = await verifyWithJwks(first, a.session.access_token);
    expect([verified.payload.sub, verified.payload.email, verified.protectedHeader.kid]).toEqual([a.session.user.id, a.email, rsa.kid]);
    expect((await a.auth.getUser()).data.user?.email).toBe(a.email);
    await hs256KeysStillWork(first);
    const issued = await apiKeys(first.deps.signer); // what ./gotrue keys prints now: RS256, the signing key
    expect(decodeProtectedHeader(issued.serviceRole).kid).toBe(rsa.kid);
    expect((await adminApi(first, issued.serviceRole).getUserById(a.session.user.id)).data.user?.email).toBe(a.email);

    // 2. ES256 rotated in front; RS256 kept for verification.
    const second = await serverWith([es, verifyOnly(rsa)]);
    const jwks = (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as { keys: Jwk[] };
    expect(jwks.keys.map((k) => [k.kid, k.alg])).toEqual([
      [es.kid, 'ES256'],
      [rsa.kid, 'RS256'],
    ]);
    const old = await client(second).getUser(a.session.access_token);
    expect([old.error, old.data.user?.id]).toEqual([null, a.session.user.id]);
    expect((await verifyWithJwks(second, a.session.access_token)).protectedHeader.kid).toBe(rsa.kid);
    const b = await signUpAndIn(second);
    expect(decodeProtectedHeader(b.session.access_token)).toEqual({ alg: 'ES256', typ: 'JWT', kid: es.kid });
    expect((await verifyWithJwks(second, b.session.access_token)).payload.sub).toBe(b.session.user.id);
    const refreshed = await client(second).refreshSession({ refresh_token: a.session.refresh_token });
    expect(refreshed.error).toBeNull();
    expect(decodeProtectedHeader(refreshed.data.session!.access_token).kid).toBe(es.kid);
    await hs256KeysStillWork(second);

    // 3. EdDSA rotated in; ES256 kept; RS256 removed.
    const third = await serverWith([ed, verifyOnly(es)]);
    const gone = await client(third).getUser(a.session.access_token);
    expect([gone.error?.status, gone.error?.code]).toEqual([403, 'bad_jwt']);
    expect((await client(third).getUser(b.session.access_token)).data.user?.id).toBe(b.session.user.id);
    const c = await signUpAndIn(third);
    expect(decodeProtectedHeader(c.session.access_token)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: ed.kid });
    expect((await verifyWithJwks(third, c.session.access_token)).payload.sub).toBe(c.session.user.id);
    expect((await c.auth.getUser()).data.user?.email).toBe(c.email);
    await hs256KeysStillWork(third);
  });

  it('the JWKS never carries an oct key or any private part', async () => {
    const oct = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: randomUUID(), alg: 'HS256', key_ops: ['verify'] };
    const s = await serverWith([es, verifyOnly(rsa), verifyOnly(ed), oct as unknown as Jwk]);
    const r = await fetch(`${s.url}/auth/v1/.well-known/jwks.json`);
    const text = await r.text();
    const { keys } = JSON.parse(text) as { keys: Jwk[] };
    expect(keys.map((k) => k.kty)).toEqual(['EC', 'RSA', 'OKP']);
    for (const k of keys) for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(p);
    for (const secret of [es['d'], rsa['d'], ed['d'], oct.k]) expect(text).not.toContain(String(secret));
  });
});
