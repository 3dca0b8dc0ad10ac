import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createHttpServer } from '../../src/http/http-server';
import { loadConfig } from '../../src/config';
import type { DatabaseHandle } from '../../src/db/database';
import { buildDeps, type Deps, type DepsOverrides } from '../../src/deps';
import { createPasswordHasher } from '../../src/crypto/password-hasher';
import { testDatabaseUrl } from './test-db';
import { listenOnLoopback } from './loopback';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long';

/** Cheap argon2id parameters: tests exercise the same code path without OWASP's cost. */
export const TEST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export const baseEnv = (db: DatabaseHandle): Record<string, string> => ({
  ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
  GOTRUE_DB_NAMESPACE: db.namespace,
  GOTRUE_JWT_SECRET: TEST_JWT_SECRET,
  GOTRUE_SITE_URL: 'http://localhost:3000',
  API_EXTERNAL_URL: 'http://localhost:9999',
  GOTRUE_MAILER_AUTOCONFIRM: 'true',
  GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '100000',
  GOTRUE_RATE_LIMIT_OTP: '100000',
  GOTRUE_RATE_LIMIT_VERIFY: '100000',
  GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '100000',
  GOTRUE_RATE_LIMIT_EMAIL_SENT: '100000',
  GOTRUE_RATE_LIMIT_SMS_SENT: '100000',
  LOG_LEVEL: 'silent',
});

/** Deps over the test database with the given env on top of baseEnv; only the outside world is doubled. */
export function testDeps(db: DatabaseHandle, env: Record<string, string> = {}, overrides: DepsOverrides = {}): Deps {
  const config = loadConfig({ ...baseEnv(db), ...env });
  const logger = pino({ level: config.log.level });
  return buildDeps(config, db, logger, { hasher: createPasswordHasher(TEST_ARGON2), ...overrides });
}

/** What tests reach a listening app by: its deps, the app itself and its loopback URL. */
export interface TestServer {
  deps: Deps;
  app: ReturnType<typeof createApp>;
  url: string;
}

/** A server started by startTestServer: also the node server, and its close. */
export interface RunningTestServer extends TestServer {
  server: Server;
  close(): Promise<void>;
}

/**
 * The real app listening on a loopback port (for auth-js), sharing the test database. Files use useTestApp
 * (test-app.ts); this is for a second server started inside one test.
 */
export async function startTestServer(db: DatabaseHandle, env: Record<string, string> = {}, overrides: DepsOverrides = {}): Promise<RunningTestServer> {
  const deps = testDeps(db, env, overrides);
  const app = createApp(deps);
  const server = createHttpServer(app, deps.logger);
  const { url, close } = await listenOnLoopback(server);
  return {
    deps,
    app,
    url,
    server,
    close,
  };
}

let counter = 0;
/** A unique email per call, so tests own their rows. */
export const uniqueEmail = (tag = 'user') => `${tag}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;

/** Header auth-js sends; errors then come as {code, message}. */
export const API_VERSION = { 'X-Supabase-Api-Version': '2024-01-01' };
