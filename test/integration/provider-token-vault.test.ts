import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, fragmentOf, jsonOf } from '../helpers/browser';
import { claimsOf } from '../helpers/flows';
import { GithubStandIn } from '../helpers/github-stand-in';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail, type TestServer } from '../helpers/test-server';

const PUBLIC = 'http://localhost:9999';
const SITE = 'http://localhost:3000';
const gh = new GithubStandIn('gh-client', 'gh-secret');
let now = Date.now();
const clock = { now: () => new Date(now) };

const env = () => ({
  GOTRUE_EXTERNAL_GITHUB_ENABLED: 'true',
  GOTRUE_EXTERNAL_GITHUB_CLIENT_ID: 'gh-client',
  GOTRUE_EXTERNAL_GITHUB_SECRET: 'gh-secret',
  GOTRUE_EXTERNAL_GITHUB_URL: gh.url,
  GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `new:${Buffer.alloc(32, 2).toString('base64')},old:${Buffer.alloc(32, 1).toString('base64')}`,
});

beforeAll(async () => {
  await gh.start();
});
afterAll(() => gh.close());
// Two servers on one database stand for two processes: each has its own in-process single flight.
const a = useTestApp({ listen: true, env, overrides: { clock } });
const { db } = a;
const b = useTestApp({ db, listen: true, env, overrides: { clock } });
const noVault = useTestApp({ db, listen: true, env: () => ({ ...env(), GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: '' }), overrides: { clock } });

const admin = async (s: TestServer) => ({ Authorization: `Bearer ${await s.deps.signer.sign({ role: 'service_role' })}`, ...API_VERSION });
const tokenOf = async (s: TestServer, userId: string, provider = 'github') => fetch(`${s.url}/admin/users/${userId}/provider-tokens/${provider}`, { headers: await admin(s) });

let n = 5000;
async function signInWithGithub(s: TestServer) {
  const id = n++;
  gh.account = { id, login: `v${id}`, name: `V ${id}`, emails: [{ email: uniqueEmail('vault'), primary: true, verified: true }] };
  const f = fragmentOf(await new Browser({ [PUBLIC]: s.url }).navigate(`${s.url}/authorize?provider=github`, (u) => u.startsWith(SITE)));
  return { userId: claimsOf(f.access_token!).sub as string, providerToken: f.provider_token! };
}
const hours = (h: number) => h * 3600_000;

describe(`provider token vault (${dbKind})`, () => {
  it('hands a backend the stored token while it is fresh, then a refreshed one once it expired', async () => {
    const { userId, providerToken } = await signInWithGithub(a);
    const fresh = await jsonOf(tokenOf(a, userId));
    expect(fresh).toMatchObject({ provider: 'github', access_token: providerToken, token_type: 'bearer', refreshed: false, scope: 'user:email' });
    expect(fresh.expires_in).toBeGreaterThan(28000);

    const before = gh.counts.refreshGrants;
    now += hours(9);
    const res = await tokenOf(a, userId);
    expect(res.status).toBe(200);
    const renewed = await jsonOf(res);
    expect(renewed.refreshed).toBe(true);
    expect(renewed.access_token).not.toBe(providerToken);
    expect(gh.counts.refreshGrants).toBe(before + 1);
    const me = await fetch(`${gh.url}/api/v3/user`, { headers: { Authorization: `Bearer ${renewed.access_token}` } });
    expect(me.status).toBe(200);
    // The next call a day later uses the rotated refresh token.
    now += hours(24);
    expect((await jsonOf(tokenOf(a, userId))).refreshed).toBe(true);
  });

  it('stores the tokens sealed under the first key, with its key id', async () => {
    const { userId, providerToken } = await signInWithGithub(a);
    const row = await db.db.selectFrom('provider_tokens').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(row.access_token).toMatch(/^vault:v1:new:/);
    expect(row.access_token).not.toContain(providerToken);
  });

  it('lets concurrent callers in two processes share one refresh', async () => {
    const { userId } = await signInWithGithub(a);
    now += hours(9);
    gh.refreshDelayMs = 150;
    const before = gh.counts.refreshGrants;
    try {
      const results = await Promise.all([...Array.from({ length: 8 }, () => tokenOf(a, userId)), ...Array.from({ length: 8 }, () => tokenOf(b, userId))]);
      const bodies = await Promise.all(results.map((r) => jsonOf(r)));
      expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
      expect(new Set(bodies.map((x) => x.access_token)).size).toBe(1);
      expect(gh.counts.refreshGrants).toBe(before + 1);
    } finally {
      gh.refreshDelayMs = 0;
    }
  });

  it('says clearly when the provider revoked the grant, and remembers it', async () => {
    const { userId } = await signInWithGithub(a);
    gh.revokeAll();
    now += hours(9);
    const res = await tokenOf(a, userId);
    expect(res.status).toBe(422);
    expect((await jsonOf(res)).code).toBe('provider_grant_revoked');
    const before = gh.counts.refreshGrants;
    expect((await jsonOf(tokenOf(b, userId))).code).toBe('provider_grant_revoked');
    expect(gh.counts.refreshGrants).toBe(before);
    const row = await db.db.selectFrom('provider_tokens').select(['access_token', 'refresh_token', 'revoked_at']).where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ access_token: null, refresh_token: null });
    expect(row.revoked_at).toBeTruthy();
    // Signing in again stores a new grant.
    gh.account = { ...gh.account };
    const f = fragmentOf(await new Browser({ [PUBLIC]: a.url }).navigate(`${a.url}/authorize?provider=github`, (u) => u.startsWith(SITE)));
    expect(claimsOf(f.access_token!).sub).toBe(userId);
    expect((await jsonOf(tokenOf(a, userId))).refreshed).toBe(false);
  });

  it('answers 422 provider_token_expired for an expired token without a refresh token', async () => {
    gh.expiresIn = 60;
    try {
      const { userId } = await signInWithGithub(a);
      await db.db.updateTable('provider_tokens').set({ refresh_token: null }).where('user_id', '=', userId).execute();
      now += hours(1);
      const res = await tokenOf(a, userId);
      expect([res.status, (await jsonOf(res)).code]).toEqual([422, 'provider_token_expired']);
    } finally {
      gh.expiresIn = 28800;
    }
  });

  it('stores nothing without GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS', async () => {
    const { userId } = await signInWithGithub(noVault);
    expect(await db.db.selectFrom('provider_tokens').select('id').where('user_id', '=', userId).execute()).toEqual([]);
    const res = await tokenOf(noVault, userId);
    expect([res.status, (await jsonOf(res)).code]).toEqual([404, 'feature_disabled']);
  });

  it.each([
    ['no Authorization', {}, 'github', 401, 'no_authorization'],
    ['a garbage JWT', { Authorization: 'Bearer x.y.z' }, 'github', 403, 'bad_jwt'],
    ['a user JWT', 'user', 'github', 403, 'not_admin'],
    ['a provider the user never used', 'admin', 'gitlab', 404, 'provider_token_not_found'],
  ])('GET /admin/users/{id}/provider-tokens/{provider} answers %s with %i %s', async (_n, who, provider, status, code) => {
    const { userId } = await signInWithGithub(a);
    const headers = who === 'admin' ? await admin(a) : who === 'user' ? { Authorization: `Bearer ${await a.deps.signer.sign({ role: 'authenticated', sub: userId })}`, ...API_VERSION } : { ...(who as Record<string, string>), ...API_VERSION };
    const res = await fetch(`${a.url}/admin/users/${userId}/provider-tokens/${provider}`, { headers });
    expect([res.status, (await jsonOf(res)).code]).toEqual([status, code]);
  });

  it('answers a non-UUID user id with 404 user_not_found', async () => {
    const res = await fetch(`${a.url}/admin/users/nope/provider-tokens/github`, { headers: await admin(a) });
    expect([res.status, (await jsonOf(res)).code]).toEqual([404, 'user_not_found']);
  });
});
