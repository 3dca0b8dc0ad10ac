import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, startCliServer, type RunningServer } from '../helpers/cli';

/**
 * README cannot drift: every fenced block after a `<!-- readme-snippet: NAME … -->` comment runs here, as written,
 * in its own Node process (the Node running the tests: the machine's Node 20 in `npm test`, Node 26 in CI's LTS
 * step), against a real `./gotrue serve` on the embedded default, the quick start's server. The only changes are
 * the ones a reader makes: `http://localhost:8081` becomes the test server's URL, and the placeholders the README
 * names are defined first — `ANON_KEY` (the anon key the first run prints) and `CODE_FROM_LOG` (the code in the server's
 * log line for the mail just sent, read when the snippet uses it).
 */

const ROOT = resolve(__dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The marked snippets, by name. */
function readmeSnippets(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  const marker = /<!-- readme-snippet: ([\w-]+)[^>]*-->\s*\n```(?:js|ts|mjs)\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(marker)) found.set(m[1]!, m[2]!);
  return found;
}

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `./gotrue serve` with the quick start's defaults (plus `env`) in a fresh folder; its stdout also goes to a file. */
async function quickStartServer(env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'gotrue-readme-'));
  dirs.push(cwd);
  const serverEnv = cleanEnv(env);
  // A first start migrates the embedded database: seconds alone, minutes on a machine loaded many times over.
  const server = await startCliServer(cwd, serverEnv, freePort(), 400_000);
  servers.push(server);
  const log = join(cwd, 'server.log');
  writeFileSync(log, server.output().stdout);
  server.child.stdout!.on('data', (d: Buffer) => appendFileSync(log, d));
  // The first run's banner, as the quick start reads it (./gotrue keys prints the same key).
  const anonKey = /anon key: +(eyJ\S+)/.exec(server.output().stderr)?.[1];
  if (!anonKey) throw new Error(`./gotrue serve printed no anon key: ${server.output().stderr}`);
  return { server, log, anonKey };
}

/**
 * The placeholders, defined before the snippet. CODE_FROM_LOG is a getter: it waits (synchronously, up to 10 s) for
 * the last `code NNNNNN` the server logged, so it reads the mail the snippet's sign-up just caused.
 */
function preamble(anonKey: string, log: string): string {
  return `const ANON_KEY = ${JSON.stringify(anonKey)};
Object.defineProperty(globalThis, 'CODE_FROM_LOG', { get() {
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 200; i++) {
    const codes = [...readFileSync(${JSON.stringify(log)}, 'utf8').matchAll(/DEV MAIL, not sent .* \\| code (\\d+)/g)];
    if (codes.length > 0) return codes.at(-1)[1];
    Atomics.wait(sleep, 0, 0, 50);
  }
  throw new Error('no code in the server log');
} });
`;
}

/** Runs a snippet as an ES module from the repository root (so its imports resolve as in an app); output and exit code. */
async function runSnippet(code: string, url: string, anonKey: string, log: string) {
  const source = preamble(anonKey, log) + code.replaceAll('http://localhost:8081', url);
  const child = spawn(process.execPath, ['--input-type=module', '-'], { cwd: ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(source);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

const SPAWNING = { timeout: 600_000 };

describe('README supabase-js snippets, run as written against ./gotrue serve', SPAWNING, () => {
  const snippets = readmeSnippets(README);

  it('README marks both quick-start snippets', () => {
    expect([...snippets.keys()].sort()).toEqual(['autoconfirm', 'confirm-from-log']);
    // What makes them run on Node 20: the ws transport.
    for (const code of snippets.values()) expect(code).toContain('realtime: { transport: WebSocket }');
  });

  it('autoconfirm: sign up, sign in, getUser, updateUser, refreshSession, signOut', async () => {
    const { server, log, anonKey } = await quickStartServer({ GOTRUE_MAILER_AUTOCONFIRM: 'true' });
    const run = await runSnippet(snippets.get('autoconfirm')!, server.url, anonKey, log);
    expect(run, run.stderr).toMatchObject({ exitCode: 0 });
    expect(run.stdout.trim()).toBe('ada@example.com');
  });

  it('defaults: the sign-up has no session, sign-in is email_not_confirmed, the code from the log signs in', async () => {
    const { server, log, anonKey } = await quickStartServer();
    const run = await runSnippet(snippets.get('confirm-from-log')!, server.url, anonKey, log);
    expect(run, run.stderr).toMatchObject({ exitCode: 0 });
    const [session, code, confirmedAt] = run.stdout.trim().split('\n');
    expect([session, code]).toEqual(['null', 'email_not_confirmed']);
    expect(Date.parse(confirmedAt!)).toBeGreaterThan(Date.now() - 300_000);
  });

  it('the same client without the ws transport throws on Node 20 (what README says), and works on Node 22+', async () => {
    const code = `import { createClient } from '@supabase/supabase-js';
try { createClient('http://localhost:8081', ANON_KEY); console.log('created'); } catch (e) { console.log(e.message.split('\\n')[0]); }`;
    const run = await runSnippet(code, 'http://127.0.0.1:1', 'key', '/dev/null');
    const major = Number(process.versions.node.split('.')[0]);
    expect(run.stdout.trim()).toBe(major < 22 ? 'Node.js detected but native WebSocket not found.' : 'created');
  });
});
