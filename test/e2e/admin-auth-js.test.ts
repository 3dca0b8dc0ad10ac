import { GoTrueAdminApi, type User } from '@supabase/auth-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertFactor } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';
import { apiKeyJwt, serviceRoleJwt } from '../helpers/tokens';

const server = useTestApp({ listen: true, env: { GOTRUE_MAILER_AUTOCONFIRM: 'false' } });
const { db } = server;

/** supabase-js' `auth.admin` as a backend builds it: the service_role key as apikey and bearer. */
function adminApi(headers: Record<string, string> = {}, key = serviceRoleJwt(server.deps)): GoTrueAdminApi {
  return new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { apikey: key, Authorization: `Bearer ${key}`, ...headers } });
}

const client = () => server.client();

describe(`auth-js admin API against the server (${dbKind})`, () => {
  it('createUser → the user signs in → getUserById → updateUserById → deleteUser (hard)', async () => {
    const admin = adminApi();
    const email = uniqueEmail('admin-js');
    const created = await admin.createUser({ email, password: 'pass-word-1', email_confirm: true, user_metadata: { name: 'Ada' }, app_metadata: { plan: 'pro' } });
    expect(created.error).toBeNull();
    const user = created.data.user!;
    expect(user).toMatchObject({ email, user_metadata: { name: 'Ada', email_verified: true }, app_metadata: { plan: 'pro', provider: 'email', providers: ['email'] } });

    const signIn = await client().signInWithPassword({ email, password: 'pass-word-1' });
    expect(signIn.error).toBeNull();
    expect(signIn.data.session?.user.app_metadata.plan).toBe('pro');

    const got = await admin.getUserById(user.id);
    expect(got.error).toBeNull();
    expect(got.data.user?.last_sign_in_at).toBeTypeOf('string');

    const updated = await admin.updateUserById(user.id, { user_metadata: { name: 'Grace' }, role: 'editor', password: 'new-pass-word' });
    expect(updated.error).toBeNull();
    expect(updated.data.user).toMatchObject({ role: 'editor', user_metadata: { name: 'Grace' } });
    // A new password ends the user's sessions.
    const stale = await client().refreshSession({ refresh_token: signIn.data.session!.refresh_token });
    expect(stale.error?.code).toBe('refresh_token_not_found');
    expect((await client().signInWithPassword({ email, password: 'new-pass-word' })).error).toBeNull();

    const deleted = await admin.deleteUser(user.id);
    expect(deleted.error).toBeNull();
    const gone = await admin.getUserById(user.id);
    expect([gone.error?.status, gone.error?.code]).toEqual([404, 'user_not_found']);
  });

  it('deleteUser(id, true) soft-deletes: the user stays, deleted and anonymised, and cannot sign in', async () => {
    const admin = adminApi();
    const email = uniqueEmail('soft-js');
    const { data } = await admin.createUser({ email, password: 'pass-word-1', email_confirm: true });
    const id = data.user!.id;
    expect((await admin.deleteUser(id, true)).error).toBeNull();
    const after = (await admin.getUserById(id)).data.user!;
    expect(after.deleted_at).toBeTypeOf('string');
    expect(after.email).not.toBe(email);
    expect(after.user_metadata).toEqual({});
    expect((await client().signInWithPassword({ email, password: 'pass-word-1' })).error?.code).toBe('invalid_credentials');
  });

  it('createUser surfaces email_exists and phone_exists; unknown ids are user_not_found', async () => {
    const admin = adminApi();
    const email = uniqueEmail();
    await admin.createUser({ email });
    const dup = await admin.createUser({ email });
    expect([dup.error?.status, dup.error?.code]).toEqual([422, 'email_exists']);
    await admin.createUser({ phone: '+1 555 010 2030' });
    const dupPhone = await admin.createUser({ phone: '15550102030' });
    expect([dupPhone.error?.status, dupPhone.error?.code]).toEqual([422, 'phone_exists']);
    const unknown = await admin.updateUserById(crypto.randomUUID(), { role: 'x' });
    expect(unknown.error?.code).toBe('user_not_found');
  });

  it('updateUserById bans: the signed-in client stops refreshing and getUser fails until the ban is lifted', async () => {
    const admin = adminApi();
    const email = uniqueEmail('banned-js');
    const { data } = await admin.createUser({ email, password: 'pass-word-1', email_confirm: true });
    const id = data.user!.id;
    const app = client();
    const signedIn = await app.signInWithPassword({ email, password: 'pass-word-1' });
    expect(signedIn.error).toBeNull();
    const accessToken = signedIn.data.session!.access_token;

    const banned = await admin.updateUserById(id, { ban_duration: '24h' });
    expect(banned.error).toBeNull();
    expect(new Date(banned.data.user!.banned_until!).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const refreshed = await app.refreshSession();
    expect([refreshed.error?.status, refreshed.error?.code]).toEqual([400, 'user_banned']);
    // The access token issued before the ban is refused too.
    const me = await client().getUser(accessToken);
    expect([me.error?.status, me.error?.code]).toEqual([403, 'user_banned']);
    const again = await client().signInWithPassword({ email, password: 'pass-word-1' });
    expect([again.error?.status, again.error?.code]).toEqual([400, 'user_banned']);

    expect((await admin.updateUserById(id, { ban_duration: 'none' })).data.user?.banned_until).toBeUndefined();
    expect((await client().signInWithPassword({ email, password: 'pass-word-1' })).error).toBeNull();
  });

  it('mfa.listFactors and mfa.deleteFactor', async () => {
    const admin = adminApi();
    const { data } = await admin.createUser({ email: uniqueEmail() });
    const id = data.user!.id;
    expect((await admin.mfa.listFactors({ userId: id })).data).toEqual({ factors: [] });
    const factorId = await insertFactor(db, id, { name: 'Authenticator' });
    const listed = await admin.mfa.listFactors({ userId: id });
    expect(listed.data?.factors).toEqual([expect.objectContaining({ id: factorId, friendly_name: 'Authenticator', factor_type: 'totp', status: 'verified' })]);
    const del = await admin.mfa.deleteFactor({ userId: id, id: factorId });
    expect(del.error).toBeNull();
    // auth-js hands back the response body (the deleted factor) nested in its own envelope.
    expect(JSON.stringify(del.data)).toContain(factorId);
    expect((await admin.mfa.listFactors({ userId: id })).data).toEqual({ factors: [] });
    const again = await admin.mfa.deleteFactor({ userId: id, id: factorId });
    expect([again.error?.status, again.error?.code]).toEqual([404, 'mfa_factor_not_found']);
  });

  it('refuses the anon key and a user’s token with not_admin', async () => {
    const anon = adminApi({}, apiKeyJwt(server.deps, 'anon'));
    const r = await anon.listUsers();
    expect([r.error?.status, r.error?.code]).toEqual([403, 'not_admin']);
    const admin = adminApi();
    const email = uniqueEmail();
    await admin.createUser({ email, password: 'pass-word-1', email_confirm: true });
    const { data } = await client().signInWithPassword({ email, password: 'pass-word-1' });
    const asUser = adminApi({}, data.session!.access_token);
    expect((await asUser.createUser({ email: uniqueEmail() })).error?.code).toBe('not_admin');
  });
});

describe(`auth-js listUsers over a few hundred users (${dbKind})`, () => {
  const aud = `paging-${Date.now().toString(36)}`;
  const ids: string[] = [];

  beforeAll(async () => {
    // A dedicated audience (X-JWT-AUD), so the listing holds exactly these users.
    const admin = adminApi({ 'X-JWT-AUD': aud });
    for (let batch = 0; batch < 25; batch++) {
      const made = await Promise.all(Array.from({ length: 10 }, (_, i) => admin.createUser({ email: uniqueEmail(`p${batch}-${i}`) })));
      for (const m of made) {
        expect(m.error).toBeNull();
        ids.push(m.data.user!.id);
      }
    }
  }, 120_000);

  const newestFirst = async () =>
    (await db.db.selectFrom('users').select('id').where('aud', '=', aud).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.id);

  it('walks every page by nextPage, with total and lastPage, each user once, newest first', async () => {
    const admin = adminApi({ 'X-JWT-AUD': aud });
    const seen: User[] = [];
    let page: number | null = 1;
    let calls = 0;
    while (page !== null) {
      const r = await admin.listUsers({ page, perPage: 30 });
      expect(r.error).toBeNull();
      const data = r.data as { users: User[]; aud: string; nextPage: number | null; lastPage: number; total: number };
      expect([data.total, data.lastPage, data.aud]).toEqual([250, 9, aud]);
      seen.push(...data.users);
      page = data.nextPage;
      calls++;
    }
    expect(calls).toBe(9);
    expect(seen.map((u) => u.id)).toEqual(await newestFirst());
    expect(new Set(seen.map((u) => u.id))).toEqual(new Set(ids));
  });

  it('serves pages past 9 when asked for them by number', async () => {
    const admin = adminApi({ 'X-JWT-AUD': aud });
    const all: string[] = [];
    for (let page = 1; page <= 13; page++) {
      const r = await admin.listUsers({ page, perPage: 20 });
      expect(r.error).toBeNull();
      expect((r.data as { total: number }).total).toBe(250);
      all.push(...r.data.users.map((u) => u.id));
    }
    expect(all).toEqual(await newestFirst());
    const last = await admin.listUsers({ page: 13, perPage: 20 });
    expect(last.data.users).toHaveLength(10);
    const raw = await fetch(`${server.url}/auth/v1/admin/users?page=12&per_page=20`, {
      headers: { Authorization: `Bearer ${serviceRoleJwt(server.deps)}`, 'X-JWT-AUD': aud },
    });
    expect(raw.headers.get('link')).toBe('</auth/v1/admin/users?page=13&per_page=20>; rel="next", </auth/v1/admin/users?page=13&per_page=20>; rel="last"');
  });
});
