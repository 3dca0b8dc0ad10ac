import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { cleanEnv, freePort, GOTRUE, runCli, startCliServer } from '../helpers/cli';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-startup-');
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A port something else already listens on. */
async function occupiedPort(): Promise<number> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
  return (s.address() as { port: number }).port;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const PASSWORD = 'pw-that-must-not-leak-7f3a';
const SECRET = 'k3J9x2Vq8LmZ0pR7tW4yB6nC1dF5gH8jQ2sA';
const COMPOSE_PLACEHOLDER = 'change-me-to-a-long-random-secret-of-32-bytes-or-more';
const postgresSettings = { GOTRUE_JWT_SECRET: SECRET, GOTRUE_SITE_URL: 'http://localhost:3000', API_EXTERNAL_URL: 'http://localhost:9999' };

/** Exit 1, exactly one line on stderr, `gotrue: ` first, no stack trace, no password. */
function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^gotrue: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr + r.stdout).not.toContain(PASSWORD);
}

// Each spawns ./gotrue: on a loaded 2-core machine a process start can take many times its idle time.
const SPAWNING = { timeout: 600_000 };
/** How long a server start may take here (the helper's default is 120 s). */
const START_MS = 300_000;

describe('./gotrue startup failures: one line naming the setting and the fix, exit 1', SPAWNING, () => {
  it('a DATABASE_URL that is not a URL (never echoing it)', async () => {
    const r = await runCli(['serve'], tempDir(), cleanEnv({ ...postgresSettings, DATABASE_URL: `postgres://admin:${PASSWORD}@[bad-host/auth` }));
    expectOneLine(r, /DATABASE_URL \(or GOTRUE_DB_DATABASE_URL\) is not a valid URL: expected postgres:\/\/user:password@host:5432\/database/);
  });

  it('Postgres unreachable: nothing listening, or an unknown host', async () => {
    const port = await closedPort();
    const refused = await runCli(['serve'], tempDir(), cleanEnv({ ...postgresSettings, DATABASE_URL: `postgres://admin:${PASSWORD}@127.0.0.1:${port}/auth` }));
    expectOneLine(refused, new RegExp(`cannot reach Postgres at 127\\.0\\.0\\.1:${port}: connection refused\\. .*DATABASE_URL`));
    const unknown = await runCli(['migrate'], tempDir(), cleanEnv({ ...postgresSettings, DATABASE_URL: `postgres://admin:${PASSWORD}@no-such-host.invalid:5432/auth` }));
    expectOneLine(unknown, /cannot reach Postgres: the host "no-such-host\.invalid" is unknown .*DATABASE_URL/);
  });

  it('the port is in use: names PORT', async () => {
    const port = await occupiedPort();
    // A configured secret: no first-run key banner on stderr beside the one line.
    const r = await runCli(['serve'], tempDir(), cleanEnv({ GOTRUE_JWT_SECRET: SECRET, PORT: String(port) }));
    expectOneLine(r, new RegExp(`port ${port} is already in use .*set PORT \\(or GOTRUE_API_PORT\\) to a free port`));
  });

  it('the data folder is a file', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'data'), 'not a folder');
    const r = await runCli(['serve'], cwd, cleanEnv({ GOTRUE_DB_DATA_DIR: 'data', PORT: String(freePort()) }));
    expectOneLine(r, /GOTRUE_DB_DATA_DIR: cannot use .*\/data: a file, not a folder, is in the way/);
  });
});

// A login refused, a missing database and a half-migrated schema need a Postgres server to answer.
describe.runIf(onPostgres)('./gotrue startup on Postgres', SPAWNING, () => {
  const url = new URL(testDatabaseUrl ?? 'postgres://localhost');
  const withUrl = (change: (u: URL) => void) => {
    const u = new URL(url);
    change(u);
    return u.toString();
  };
  const namespace = `startup_${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const handle = await openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 1, dataDir: '' });
    await dropNamespace(handle);
    await handle.destroy();
  });

  it('a login Postgres refuses, and a database that does not exist', async () => {
    const role = await runCli(['serve'], tempDir(), cleanEnv({ ...postgresSettings, DATABASE_URL: withUrl((u) => ((u.username = 'no_such_role_g7'), (u.password = PASSWORD))) }));
    expectOneLine(role, /Postgres at .* refused the login of user "no_such_role_g7": authentication failed \(28000\)\. Check the user and password in DATABASE_URL/);
    const db = await runCli(['serve'], tempDir(), cleanEnv({ ...postgresSettings, DATABASE_URL: withUrl((u) => (u.pathname = '/no_such_database_g7')) }));
    expectOneLine(db, /database "no_such_database_g7" does not exist\. Create it \(createdb\) or fix the database name in DATABASE_URL/);
  });

  it('pending migrations refuse in one line; once migrated, a port in use refuses once for all workers; a placeholder secret and no SMTP each warn at start', async () => {
    const env = cleanEnv({ ...postgresSettings, DATABASE_URL: testDatabaseUrl ?? '', GOTRUE_DB_NAMESPACE: namespace, GOTRUE_JWT_SECRET: COMPOSE_PLACEHOLDER });
    const cwd = tempDir();
    expectOneLine(await runCli(['serve'], cwd, { ...env, PORT: String(freePort()) }), /the database has pending migrations .*run \.\/gotrue migrate first/);
    expect((await runCli(['migrate'], cwd, env)).code).toBe(0);
    const taken = await occupiedPort();
    expectOneLine(await runCli(['serve'], cwd, { ...env, GOTRUE_WORKERS: '2', PORT: String(taken) }), new RegExp(`port ${taken} is already in use .*PORT`));
    const server = await startCliServer(cwd, env, freePort(), START_MS);
    try {
      const warnings = server
        .output()
        .stdout.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level === 40)
        .map((l) => l.msg);
      expect(warnings).toEqual([
        expect.stringMatching(/^GOTRUE_JWT_SECRET is a published placeholder/),
        expect.stringMatching(/^GOTRUE_SMTP_HOST is not set on Postgres and GOTRUE_MAILER_AUTOCONFIRM is off/),
      ]);
      expect(server.output().stdout).not.toContain(COMPOSE_PLACEHOLDER);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('./gotrue logs', SPAWNING, () => {
  const signUp = (url: string, email: string) =>
    fetch(`${url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'pass-word-1' }) });
  const waitFor = async (read: () => string, pattern: RegExp) => {
    for (let i = 0; i < 100 && !pattern.test(read()); i++) await new Promise((r) => setTimeout(r, 100));
    return read();
  };

  it('to a pipe: JSON lines; the placeholder secret warns; the dev mail line says it is dev-only and carries the link', async () => {
    const server = await startCliServer(tempDir(), cleanEnv({ GOTRUE_JWT_SECRET: COMPOSE_PLACEHOLDER }), freePort(), START_MS);
    try {
      expect((await signUp(server.url, 'json-log@example.com')).status).toBe(200);
      const stdout = await waitFor(() => server.output().stdout, /DEV MAIL/);
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; mail?: { link?: string } });
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/^GOTRUE_JWT_SECRET is a published placeholder/)]);
      const mail = lines.find((l) => l.msg.startsWith('DEV MAIL'));
      expect(mail?.msg).toMatch(/^DEV MAIL, not sent \(log transport: embedded database without GOTRUE_SMTP_HOST, for development only\): "Confirm Your Email" to json-log@example\.com \| open http:\/\/localhost:\d+\/verify\?token=\w+&type=signup/);
      expect(mail?.msg).toContain(mail?.mail?.link);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('GOTRUE_LOG_FORMAT=pretty: human-readable lines; the dev mail is a block with the link on its own line', async () => {
    const server = await startCliServer(tempDir(), cleanEnv({ GOTRUE_LOG_FORMAT: 'pretty' }), freePort(), START_MS);
    try {
      expect((await signUp(server.url, 'pretty-log@example.com')).status).toBe(200);
      const stdout = await waitFor(() => server.output().stdout, /POST \/signup/);
      expect(stdout).not.toMatch(/^\{/m);
      expect(stdout).toMatch(/^\[[\d:.]+\] INFO: GoTrue API started on port \d+$/m);
      expect(stdout).toMatch(/INFO: POST \/signup → 200 \d+ ms/);
      expect(stdout).toMatch(/INFO: ✉ {2}DEV MAIL, not sent \(log transport: embedded database without GOTRUE_SMTP_HOST, for development only\)\n +Confirm Your Email → pretty-log@example\.com\n +open: http:\/\/localhost:\d+\/verify\?token=\w+&type=signup\S*\n +code: \d{6}/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('on a terminal (a pseudo-TTY from script): pretty and coloured without any setting', async () => {
    // It stops at listen (the port is taken) after logging the embedded database line: no server to stop.
    const port = await occupiedPort();
    const child = spawn('script', ['-qec', `${GOTRUE} serve`, '/dev/null'], { cwd: tempDir(), env: cleanEnv({ PORT: String(port) }) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(out).toContain('\u001b['); // ANSI colour codes
    expect(out).toMatch(/INFO.*: .*embedded database at /);
    expect(out).not.toMatch(/"level":30/);
    expect(out).toMatch(new RegExp(`gotrue: port ${port} is already in use`));
  });
});
