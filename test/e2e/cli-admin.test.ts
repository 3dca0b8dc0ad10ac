import { randomBytes } from 'node:crypto';
import { GoTrueAdminApi, GoTrueClient } from '@supabase/auth-js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, runCli, startCliServer } from '../helpers/cli';
import { openDatabase } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-cli-admin-');

// Each case spawns ./gotrue several times; on a loaded 2-core machine that takes a while.
const SPAWNING = { timeout: 300_000 };

describe('./gotrue admin and ./gotrue keys on the embedded default', SPAWNING, () => {
  it('createuser/adduser/editrole/deleteuser work offline; keys gives a service_role key the admin API accepts', async () => {
    const cwd = tempDir();
    const env = cleanEnv();
    const created = await runCli(['admin', 'createuser', 'ada@example.com', 'pass-word-1', '--confirm', '--admin'], cwd, env);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect(created.stdout).toMatch(/^Created user: ada@example\.com \(id [0-9a-f-]{36}, role admin\)\n$/);
    const bob = await runCli(['admin', 'adduser', 'Bob@Example.com', 'pass-word-2'], cwd, env);
    expect(bob.code).toBe(0);
    const bobId = /id ([0-9a-f-]{36})/.exec(bob.stdout)![1]!;
    const dup = await runCli(['admin', 'createuser', 'ada@example.com', 'other-pass'], cwd, env);
    expect([dup.code, dup.stderr]).toEqual([1, 'gotrue admin: A user with this email address has already been registered (email_exists)\n']);
    const weak = await runCli(['admin', 'createuser', 'weak@example.com', 'x'], cwd, env);
    expect([weak.code, weak.stderr]).toEqual([1, expect.stringMatching(/\(weak_password\)/)]);
    expect((await runCli(['admin', 'editrole', bobId, 'editor'], cwd, env)).stdout).toMatch(/is now editor/);

    const keys = await runCli(['keys'], cwd, env);
    expect(keys.code).toBe(0);
    const serviceRole = /^service_role: (\S+)$/m.exec(keys.stdout)![1]!;
    const anon = /^anon: (\S+)$/m.exec(keys.stdout)![1]!;

    const server = await startCliServer(cwd, env, freePort());
    try {
      const adminApi = new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { apikey: serviceRole, Authorization: `Bearer ${serviceRole}` } });
      const listed = await adminApi.listUsers();
      expect(listed.error).toBeNull();
      const byEmail = Object.fromEntries(listed.data.users.map((u) => [u.email, u]));
      expect(Object.keys(byEmail).sort()).toEqual(['ada@example.com', 'bob@example.com']);
      expect(byEmail['ada@example.com']).toMatchObject({ role: 'admin', email_confirmed_at: expect.any(String) });
      expect(byEmail['bob@example.com']).toMatchObject({ id: bobId, role: 'editor' });
      expect(byEmail['bob@example.com']!.email_confirmed_at).toBeUndefined();
      const audit = await fetch(`${server.url}/admin/audit?query=author:gotrue-cli`, { headers: { Authorization: `Bearer ${serviceRole}` } });
      expect(((await audit.json()) as { payload: { action: string } }[]).map((e) => e.payload.action).sort()).toEqual(['user_modified', 'user_signedup', 'user_signedup']);

      const auth = new GoTrueClient({ url: `${server.url}/auth/v1`, headers: { apikey: anon }, autoRefreshToken: false, persistSession: false });
      expect((await auth.signInWithPassword({ email: 'ada@example.com', password: 'pass-word-1' })).error).toBeNull();
      const anonAdmin = new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { Authorization: `Bearer ${anon}` } });
      expect((await anonAdmin.listUsers()).error?.code).toBe('not_admin');
    } finally {
      expect(await server.stop()).toBe(0);
    }

    expect((await runCli(['admin', 'deleteuser', 'ada@example.com'], cwd, env)).stdout).toMatch(/^Removed user: ada@example\.com/);
    expect((await runCli(['admin', 'deleteuser', bobId], cwd, env)).code).toBe(0);
    const again = await runCli(['admin', 'deleteuser', 'ada@example.com'], cwd, env);
    expect([again.code, again.stderr]).toEqual([1, 'gotrue admin: User not found: ada@example.com (user_not_found)\n']);
  });

  it('answers usage errors with exit status 2 and the admin help', async () => {
    const cwd = tempDir();
    const usages = [['admin'], ['admin', 'frobnicate'], ['admin', 'createuser', 'only@email.com'], ['admin', 'createuser', 'a@b.co', 'pw-pw-pw', '--sudo'], ['admin', 'deleteuser']];
    const runs = await Promise.all(usages.map((args) => runCli(args, tempDir(), cleanEnv())));
    runs.forEach((r, i) => {
      expect(r.code, usages[i]!.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/Usage: gotrue admin/);
    });
    const help = await runCli(['admin', '--help'], cwd, cleanEnv());
    expect([help.code, help.stdout]).toEqual([0, expect.stringMatching(/createuser .*deleteuser .*editrole/s)]);
  });
});

// The CLI and this test open the database at the same time; the embedded database admits one process at a time.
describe.runIf(onPostgres)('./gotrue admin on Postgres', SPAWNING, () => {
  const namespace = `cli_admin_${randomBytes(5).toString('hex')}`;
  const env = cleanEnv({
    DATABASE_URL: testDatabaseUrl ?? '',
    GOTRUE_DB_NAMESPACE: namespace,
    GOTRUE_JWT_SECRET: 'cli-admin-test-secret-that-is-32-bytes+',
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
  });
  const query = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  afterAll(async () => {
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
  });

  it('refuses an unmigrated schema, then creates, edits and deletes users in the configured audience', async () => {
    const cwd = tempDir();
    const early = await runCli(['admin', 'createuser', 'a@example.com', 'pass-word-1'], cwd, env);
    expect([early.code, early.stderr]).toEqual([1, expect.stringMatching(/pending migrations/)]);
    expect((await runCli(['migrate'], cwd, env)).code).toBe(0);
    const made = await runCli(['admin', 'createuser', 'a@example.com', 'pass-word-1', 'support', '--aud', 'partners'], cwd, env);
    expect(made.code).toBe(0);
    const [row] = await query(`select id, role, aud, email_confirmed_at, encrypted_password from "${namespace}".users where email = $1`, ['a@example.com']);
    expect(row).toMatchObject({ role: 'support', aud: 'partners', email_confirmed_at: null });
    expect(row.encrypted_password).toMatch(/^\$argon2id\$/);
    // In another audience the email names nobody.
    expect((await runCli(['admin', 'deleteuser', 'a@example.com'], cwd, env)).code).toBe(1);
    expect((await runCli(['admin', 'editrole', 'a@example.com', 'boss', '--aud=partners'], cwd, env)).code).toBe(0);
    expect((await query(`select role from "${namespace}".users where id = $1`, [row.id]))[0].role).toBe('boss');
    expect((await runCli(['admin', 'deleteuser', row.id], cwd, env)).code).toBe(0);
    expect(await query(`select id from "${namespace}".users`)).toEqual([]);
  });
});
