import { GoTrueClient } from '@supabase/auth-js';
import type { Express } from 'express';
import { afterAll, beforeAll } from 'vitest';
import { createApp } from '../../src/app';
import type { Deps, DepsOverrides } from '../../src/deps';
import { startMailCatcher, type MailCatcher } from './mail-catcher';
import { openTestDatabase, type TestDatabase } from './test-db';
import { startTestServer, testDeps, type TestServer } from './test-server';

export interface TestAppOptions {
  /** Env on top of baseEnv; a function when it names something started in an earlier hook (a stand-in's URL). */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Doubles of the outside world (clock, SMS vendor, fetch…); a function for the same reason as `env`. */
  overrides?: DepsOverrides | (() => DepsOverrides);
  /** Listen on a loopback port, for auth-js, fetch and browsers: then `url` is set. */
  listen?: boolean;
  /** A real SMTP listener (`mail`) with email confirmations on (autoconfirm off, as GoTrue's default); listens. */
  mail?: boolean;
  /** Another fixture's database (two servers on one database): used, not opened, and left for its owner to close. */
  db?: TestDatabase;
}

/** What `useTestApp` hands a test file; filled by its beforeAll, so read it inside hooks and tests. */
export interface TestApp extends TestServer {
  /** The file's own migrated database (or the shared one). */
  db: TestDatabase;
  /** The deps the app runs on: baseEnv + `env`, cheap argon2, `overrides`. */
  deps: Deps;
  /** The app, for supertest. */
  app: Express;
  /** The loopback URL, with `listen` or `mail`. */
  readonly url: string;
  /** The SMTP listener, with `mail`. */
  readonly mail: MailCatcher;
  /** An auth-js client against `url` (see authClient). */
  client(flowType?: 'implicit' | 'pkce'): GoTrueClient;
}

interface Filled {
  db: TestDatabase;
  deps: Deps;
  app: Express;
  url?: string;
  mail?: MailCatcher;
}

/**
 * The one test fixture: registers a beforeAll that opens the test database (unless `db` is shared), builds deps,
 * creates the app and, with `listen` or `mail`, starts it on a loopback port; and an afterAll that closes what it
 * opened, in reverse. Call it at the top of a file (or a describe); hooks registered before it run before it, and
 * their afterAll after its own (vitest runs afterAll hooks as a stack).
 *
 * `db`, `deps` and `app` are stand-ins that forward to the real objects once beforeAll has filled them, so
 * `const { db, deps, app } = useTestApp()` can be written at module level; touched earlier, they throw.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let filled: Filled | undefined;
  /** What beforeAll opened, closed in reverse even when a later step failed. */
  const opened: (() => Promise<void>)[] = [];
  const read = (what: string): Filled => {
    if (!filled) throw new Error(`useTestApp: ${what} is filled in beforeAll; read it inside a hook or a test`);
    return filled;
  };

  beforeAll(async () => {
    const db = options.db ?? (await openTestDatabase());
    if (!options.db) opened.push(() => db.close());
    const mail = options.mail ? await startMailCatcher() : undefined;
    if (mail) opened.push(() => mail.close());
    const env = { ...(mail ? { GOTRUE_MAILER_AUTOCONFIRM: 'false', ...mail.env } : {}), ...valueOf(options.env ?? {}) };
    const overrides = valueOf(options.overrides ?? {});
    if (options.listen || mail) {
      const server = await startTestServer(db, env, overrides);
      opened.push(() => server.close());
      filled = { db, deps: server.deps, app: server.app, url: server.url, mail };
    } else {
      const deps = testDeps(db, env, overrides);
      filled = { db, deps, app: createApp(deps) };
    }
  });
  afterAll(async () => {
    filled = undefined;
    for (const close of opened.splice(0).reverse()) await close();
  });

  const handle: TestApp = {
    db: lateBound(() => read('db').db),
    deps: lateBound(() => read('deps').deps),
    app: lateBound(() => read('app').app, () => undefined),
    get url() {
      const { url } = read('url');
      if (url === undefined) throw new Error('useTestApp: url needs { listen: true } or { mail: true }');
      return url;
    },
    get mail() {
      const { mail } = read('mail');
      if (mail === undefined) throw new Error('useTestApp: mail needs { mail: true }');
      return mail;
    },
    client: (flowType) => authClient(handle, flowType),
  };
  return handle;
}

const valueOf = <T extends object>(v: T | (() => T)): T => (typeof v === 'function' ? v() : v);

/**
 * A stand-in for an object that exists only later: reads, writes, `in`, key listings (spread) and calls all go to
 * `current()`. `shape` is what typeof sees: a function for the Express app (supertest checks it), else an object.
 */
function lateBound<T extends object>(current: () => T, shape: object = {}): T {
  return new Proxy(shape as T, {
    get: (_t, key) => Reflect.get(current(), key),
    set: (_t, key, value) => Reflect.set(current(), key, value),
    has: (_t, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    // The stand-in itself holds none of these properties, so a proxy may only report them as configurable.
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(current(), key);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(current()),
    apply: (_t, self, args: unknown[]) => Reflect.apply(current() as (...a: unknown[]) => unknown, self, args),
  });
}

/** An auth-js client as an app builds it: the server's URL, an apikey, in-memory session, no auto refresh. */
export function authClient(server: Pick<TestServer, 'url'>, flowType: 'implicit' | 'pkce' = 'implicit'): GoTrueClient {
  return new GoTrueClient({
    url: `${server.url}/auth/v1`,
    headers: { apikey: 'anon-key-is-not-checked-by-gotrue' },
    autoRefreshToken: false,
    persistSession: false,
    detectSessionInUrl: false,
    flowType,
  });
}
