import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../src/db/database';
import { dropNamespace } from '../../src/db/migrate';
import { cleanEnv, runCli } from './cli';
import { testDatabaseUrl } from './test-db';

/** A reply from a spawned server, or `undefined` status when the connection failed (the process died). */
export interface Reply {
  status: number | undefined;
  body: Record<string, unknown>;
}

/** POSTs JSON to a spawned server; a dropped connection is a reply with no status, never a throw. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  } catch {
    return { status: undefined, body: {} };
  }
}

/**
 * Where a spawned `./gotrue serve` keeps its data for a fault test: a fresh, migrated namespace on the test
 * Postgres, or (without TEST_DATABASE_URL) the embedded database in a temp folder. `open` reads the same data
 * from the test process; on the embedded database only while no server holds the folder.
 */
export interface ServerStore {
  cwd: string;
  env: NodeJS.ProcessEnv;
  open(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
}

export async function serverStore(prefix: string, settings: Record<string, string>): Promise<ServerStore> {
  const cwd = mkdtempSync(join(tmpdir(), `gotrue-${prefix}-`));
  const base = {
    GOTRUE_JWT_SECRET: `${prefix}-fault-test-secret-at-least-32-bytes`,
    GOTRUE_SITE_URL: 'http://localhost:3000',
    API_EXTERNAL_URL: 'http://localhost:9999',
    ...settings,
  };
  if (!testDatabaseUrl) {
    const dataDir = join(cwd, '.gotrue-data');
    return {
      cwd,
      env: cleanEnv(base),
      open: () => openDatabase({ url: undefined, namespace: 'auth', maxPoolSize: 1, dataDir }),
      cleanup: async () => rmSync(cwd, { recursive: true, force: true }),
    };
  }
  const namespace = `${prefix}_${randomBytes(5).toString('hex')}`;
  const env = cleanEnv({ ...base, DATABASE_URL: testDatabaseUrl, GOTRUE_DB_NAMESPACE: namespace });
  const migrated = await runCli(['migrate'], cwd, env);
  if (migrated.code !== 0) throw new Error(`./gotrue migrate failed: ${migrated.stderr}`);
  const open = () => openDatabase({ url: testDatabaseUrl, namespace, maxPoolSize: 2, dataDir: '' });
  return {
    cwd,
    env,
    open,
    async cleanup() {
      const handle = await open();
      await dropNamespace(handle);
      await handle.destroy();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
