import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export const GOTRUE = resolve(__dirname, '../../gotrue');

/** The environment with every database and secret variable removed, so a test chooses them. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('GOTRUE_') || ['DATABASE_URL', 'TEST_DATABASE_URL', 'API_EXTERNAL_URL', 'PORT', 'LOG_LEVEL'].includes(k)) delete env[k];
  }
  return { ...env, ...extra };
}

/** Runs ./gotrue to completion. */
export async function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(GOTRUE, args, { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  output: () => { stdout: string; stderr: string };
  stop(): Promise<number | null>;
}

/** Starts `./gotrue serve` and waits until /health answers. */
export async function startCliServer(cwd: string, env: NodeJS.ProcessEnv, port: number, timeoutMs = 120_000): Promise<RunningServer> {
  const child = spawn(GOTRUE, ['serve'], { cwd, env: { ...env, PORT: String(port) } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gotrue serve exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gotrue serve did not answer /health in ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    url,
    output: () => ({ stdout, stderr }),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** A port number unlikely to collide across parallel test files. */
export const freePort = () => 20_000 + Math.floor(Math.random() * 20_000);
