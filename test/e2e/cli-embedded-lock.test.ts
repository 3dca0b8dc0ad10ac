import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoTrueAdminApi, GoTrueClient } from '@supabase/auth-js';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, runCli, startCliServer, type RunningServer } from '../helpers/cli';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-cli-lock-');
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

// Every step spawns ./gotrue (three servers, several commands): on a 2-core machine under a load of 20, a first
// start (creating the embedded database) took over two minutes and a CLI command about one.
const SPAWNING = { timeout: 1_200_000 };
const START_MS = 300_000;

const signIn = (url: string, anon: string, email: string) =>
  new GoTrueClient({ url: `${url}/auth/v1`, headers: { apikey: anon }, autoRefreshToken: false, persistSession: false }).signInWithPassword({
    email,
    password: 'pass-word-1',
  });

describe('the embedded data folder has one writer', SPAWNING, () => {
  it('while serve runs, a second serve, admin and migrate are refused naming the folder and pid and write nothing; admin works once serve stops; serve starts at once after a SIGKILL', async () => {
    const cwd = tempDir();
    const env = cleanEnv();
    const folder = join(cwd, '.gotrue-data');
    const server = await startCliServer(cwd, env, freePort(), START_MS);
    servers.push(server);
    const pid = server.child.pid!;
    const lockBefore = readFileSync(join(folder, 'gotrue.lock'), 'utf8');
    expect(JSON.parse(lockBefore)).toMatchObject({ pid, command: 'gotrue serve' });

    const refusal = new RegExp(`^gotrue: the embedded database at ${folder} is in use by pid ${pid} \\(gotrue serve, started [^)]+\\): .*stop that process first, or while it runs manage users through its admin API`);
    const [secondServe, createUser, migrate] = await Promise.all([
      runCli(['serve'], cwd, { ...env, PORT: String(freePort()) }),
      runCli(['admin', 'createuser', 'ada@example.com', 'pass-word-1', '--confirm'], cwd, env),
      runCli(['migrate'], cwd, env),
    ]);
    for (const r of [secondServe, createUser, migrate]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(refusal);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(createUser.stdout).not.toMatch(/Created user/);
    expect(migrate.stdout).toBe('');
    expect(readFileSync(join(folder, 'gotrue.lock'), 'utf8')).toBe(lockBefore);

    // keys opens no database: beside the running server it prints keys that server accepts.
    const keys = await runCli(['keys'], cwd, env);
    expect(keys.code, keys.stderr).toBe(0);
    const serviceRole = /^service_role: (\S+)$/m.exec(keys.stdout)![1]!;
    const anon = /^anon: (\S+)$/m.exec(keys.stdout)![1]!;
    const adminApi = (url: string) => new GoTrueAdminApi({ url: `${url}/auth/v1`, headers: { apikey: serviceRole, Authorization: `Bearer ${serviceRole}` } });
    const listed = await adminApi(server.url).listUsers();
    expect(listed.error).toBeNull();
    expect(listed.data.users).toEqual([]);
    // From another folder, GOTRUE_DB_DATA_DIR points keys at the server's folder.
    const pointed = await runCli(['keys'], tempDir(), cleanEnv({ GOTRUE_DB_DATA_DIR: folder }));
    const pointedKey = /^service_role: (\S+)$/m.exec(pointed.stdout)![1]!;
    const viaPointed = new GoTrueAdminApi({ url: `${server.url}/auth/v1`, headers: { apikey: pointedKey, Authorization: `Bearer ${pointedKey}` } });
    expect((await viaPointed.listUsers()).error).toBeNull();
    expect(await server.stop()).toBe(0);
    expect(readdirSync(folder)).not.toContain('gotrue.lock');

    const created = await runCli(['admin', 'createuser', 'ada@example.com', 'pass-word-1', '--confirm'], cwd, env);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect(created.stdout).toMatch(/^Created user: ada@example\.com/);

    const restarted = await startCliServer(cwd, env, freePort(), START_MS);
    servers.push(restarted);
    expect((await signIn(restarted.url, anon, 'ada@example.com')).error).toBeNull();
    const killed = once(restarted.child, 'exit');
    restarted.child.kill('SIGKILL');
    await killed;
    // The dead server's lock is still there; the next start finds its pid dead and takes over at once.
    expect(JSON.parse(readFileSync(join(folder, 'gotrue.lock'), 'utf8')).pid).toBe(restarted.child.pid);

    // Refused, it would exit 1 at once and startCliServer would throw: no wait for a stale lock on this host.
    const afterKill = await startCliServer(cwd, env, freePort(), START_MS);
    servers.push(afterKill);
    expect(afterKill.output().stderr).not.toMatch(/in use/);
    expect((await signIn(afterKill.url, anon, 'ada@example.com')).error).toBeNull();
    expect(await afterKill.stop()).toBe(0);
  });

  it('refuses GOTRUE_WORKERS above 1 on the embedded database at start, naming the setting', async () => {
    const r = await runCli(['serve'], tempDir(), cleanEnv({ GOTRUE_WORKERS: '2' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GOTRUE_WORKERS: the embedded database serves one process; set DATABASE_URL to run workers/);
  });
});

describe('./gotrue keys never creates a secret', SPAWNING, () => {
  it('run where no embedded database is, it creates nothing, says where it looked, and exits 1', async () => {
    const cwd = tempDir();
    const r = await runCli(['keys'], cwd, cleanEnv());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^gotrue keys: no embedded database at ${join(cwd, '.gotrue-data')} \\(no jwt-secret there\\).*never creates a secret.*GOTRUE_DB_DATA_DIR`));
    expect(readdirSync(cwd)).toEqual([]);

    const elsewhere = join(cwd, 'data');
    mkdirSync(elsewhere);
    const named = await runCli(['keys'], cwd, cleanEnv({ GOTRUE_DB_DATA_DIR: './data' }));
    expect([named.code, named.stderr]).toEqual([1, expect.stringContaining(`no embedded database at ${elsewhere} `)]);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});
