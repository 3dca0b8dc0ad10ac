import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCliServer, type RunningServer } from '../helpers/cli';
import { postJson, serverStore, type Reply, type ServerStore } from '../helpers/fault';
import { dbKind } from '../helpers/test-db';

// "A 2xx means committed": a real ./gotrue serve is SIGKILLed in the middle of a burst of sign-ups and refresh
// rotations, restarted on the same data, and every acknowledged write is looked for. Runs on the test Postgres
// (a namespace of its own) or, without TEST_DATABASE_URL, on the embedded database in a temp folder.

const SIGNUP_WORKERS = 6;
const REFRESH_CLIENTS = 6;
/** The kill comes on the response that makes this many acknowledged sign-ups, with the other workers in flight. */
const KILL_AFTER_SIGNUPS = 24;
const PASSWORD = 'crash-pass-word-1';

interface Burst {
  /** Emails whose sign-up was answered 2xx before the kill. */
  acknowledged: string[];
  /** Replies other than 2xx or a dropped connection (there should be none). */
  unexpected: Reply[];
  /** Requests that lost their connection to the kill (outcome unknown to the client). */
  dropped: number;
  /** Per refresh client: the last refresh token it received in a 2xx, and how many it received. */
  clients: { last: string; rotations: number }[];
}

let store: ServerStore;
let burst: Burst;
let restarted: RunningServer;
let killedBy: NodeJS.Signals | null = null;

const show = (r: Reply) => `${r.status ?? 'no reply'} ${String(r.body.error_code ?? r.body.code ?? '')}`.trim();

async function signUp(url: string, email: string): Promise<Reply> {
  return postJson(`${url}/signup`, { email, password: PASSWORD });
}

/** Starts the burst on `server`, SIGKILLs it mid-burst, and returns what was acknowledged. */
async function burstAndKill(server: RunningServer): Promise<Burst> {
  const clients: Burst['clients'] = [];
  for (let i = 0; i < REFRESH_CLIENTS; i++) {
    const r = await signUp(server.url, `refresher-${i}-${Date.now()}@example.com`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    clients.push({ last: r.body.refresh_token as string, rotations: 0 });
  }
  const acknowledged: string[] = [];
  const unexpected: Reply[] = [];
  let killed = false;
  let dropped = 0;
  const exited = once(server.child, 'exit');
  const kill = () => {
    if (killed) return;
    killed = true;
    server.child.kill('SIGKILL');
  };

  const signupWorker = async (w: number) => {
    for (let n = 0; !killed; n++) {
      const email = `burst-${w}-${n}-${Date.now()}@example.com`;
      const r = await signUp(server.url, email);
      if (r.status === undefined) return void dropped++; // died with the process: outcome unknown, not acknowledged
      if (r.status >= 200 && r.status < 300) {
        acknowledged.push(email);
        // Clients still rotating count as in flight; wait until each has rotated at least twice.
        if (acknowledged.length >= KILL_AFTER_SIGNUPS && clients.every((c) => c.rotations >= 2)) kill();
      } else unexpected.push(r);
    }
  };
  const refreshWorker = async (client: Burst['clients'][number]) => {
    while (!killed) {
      const r = await postJson(`${server.url}/token?grant_type=refresh_token`, { refresh_token: client.last });
      if (r.status === undefined) return void dropped++;
      if (r.status === 200) {
        client.last = r.body.refresh_token as string;
        client.rotations++;
      } else unexpected.push(r);
    }
  };
  // A bound on the burst: if the kill condition is never met, kill anyway and let the assertions say why.
  const bound = setTimeout(kill, 45_000);
  await Promise.all([
    ...Array.from({ length: SIGNUP_WORKERS }, (_, w) => signupWorker(w)),
    ...clients.map((c) => refreshWorker(c)),
  ]);
  clearTimeout(bound);
  const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  killedBy = signal;
  return { acknowledged, unexpected, dropped, clients };
}

describe(`a SIGKILLed ./gotrue serve keeps every write it acknowledged (${dbKind})`, { timeout: 240_000 }, () => {
  beforeAll(async () => {
    store = await serverStore('crash', {
      GOTRUE_MAILER_AUTOCONFIRM: 'true',
      GOTRUE_RATE_LIMIT_OTP: '100000',
      GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '100000',
      LOG_LEVEL: 'warn',
    });
    const port = freePort();
    const t0 = Date.now();
    const first = await startCliServer(store.cwd, store.env, port);
    const t1 = Date.now();
    burst = await burstAndKill(first);
    const t2 = Date.now();
    restarted = await startCliServer(store.cwd, store.env, port);
    const t3 = Date.now();
    console.log(`start ${t1 - t0} ms, burst ${t2 - t1} ms (${burst.acknowledged.length} sign-ups, ${burst.clients.map((c) => c.rotations).join('/')} rotations, ${burst.dropped} dropped), restart ${t3 - t2} ms`);
  }, 240_000);

  afterAll(async () => {
    await restarted?.stop();
    await store?.cleanup();
  });

  it('the burst was killed mid-flight, with no error replies before it', () => {
    expect(killedBy).toBe('SIGKILL');
    expect(burst.unexpected).toEqual([]);
    expect(burst.acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_SIGNUPS);
    // Requests were in flight when the process died (else the kill tested nothing).
    expect(burst.dropped).toBeGreaterThan(0);
  });

  it('every sign-up answered 2xx before the kill can sign in with its password after the restart', async () => {
    // A few at a time: password hashing for all at once can outlast the request timeout on a loaded machine.
    const results: (readonly [string, string])[] = [];
    const queue = [...burst.acknowledged];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let email = queue.shift(); email; email = queue.shift()) {
          results.push([email, show(await postJson(`${restarted.url}/token?grant_type=password`, { email, password: PASSWORD }))]);
        }
      }),
    );
    expect(results.filter(([, status]) => status !== '200')).toEqual([]);
  });

  it('the last refresh token each client received in a 2xx still refreshes after the restart', async () => {
    const results = await Promise.all(
      burst.clients.map(async (c) => (await postJson(`${restarted.url}/token?grant_type=refresh_token`, { refresh_token: c.last })).status),
    );
    expect(results).toEqual(burst.clients.map(() => 200));
  });

  it('leaves no half-created user: each has its identity, each session its tokens, each token one child at most', async () => {
    // The embedded folder has one writer: read it once the restarted server has stopped.
    expect(await restarted.stop()).toBe(0);
    const handle = await store.open();
    try {
      const db = handle.db;
      const users = await db.selectFrom('users').select(['id', 'email', 'email_confirmed_at']).execute();
      expect(users.length).toBeGreaterThanOrEqual(burst.acknowledged.length + REFRESH_CLIENTS);
      const emails = new Set(users.map((u) => u.email));
      expect(burst.acknowledged.filter((e) => !emails.has(e))).toEqual([]);
      expect(users.filter((u) => !u.email_confirmed_at)).toEqual([]);

      const withoutIdentity = await db
        .selectFrom('users as u')
        .leftJoin('identities as i', (j) => j.onRef('i.user_id', '=', 'u.id').on('i.provider', '=', 'email'))
        .where('i.id', 'is', null)
        .select('u.email')
        .execute();
      expect(withoutIdentity).toEqual([]);

      const sessionsWithoutToken = await db
        .selectFrom('sessions as s')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('refresh_tokens as rt').select('rt.id').whereRef('rt.session_id', '=', 's.id'))))
        .select('s.id')
        .execute();
      expect(sessionsWithoutToken).toEqual([]);
      const orphanTokens = await db
        .selectFrom('refresh_tokens as rt')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('sessions as s').select('s.id').whereRef('s.id', '=', 'rt.session_id'))))
        .select('rt.id')
        .execute();
      expect(orphanTokens).toEqual([]);

      // One client per session, one request at a time: every family is a chain with one live token at its end.
      const forks = await db
        .selectFrom('refresh_tokens')
        .where('parent', 'is not', null)
        .groupBy('parent')
        .having((eb) => eb.fn.countAll(), '>', 1)
        .select('parent')
        .execute();
      expect(forks).toEqual([]);
      const live = await db
        .selectFrom('refresh_tokens')
        .where('revoked', '=', false)
        .groupBy('session_id')
        .having((eb) => eb.fn.countAll(), '>', 1)
        .select('session_id')
        .execute();
      expect(live).toEqual([]);
    } finally {
      await handle.destroy();
    }
  });
});
