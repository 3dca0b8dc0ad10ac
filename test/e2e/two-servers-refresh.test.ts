import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCliServer, type RunningServer } from '../helpers/cli';
import { postJson, serverStore, type Reply, type ServerStore } from '../helpers/fault';
import { onPostgres } from '../helpers/test-db';

// Two ./gotrue serve processes on one Postgres namespace, many clients refreshing the same refresh tokens
// through both at once. The rules (src/services/refresh-grant.ts, reuse interval 0 as configured by default):
// one rotation per live token; the revoked parent of the live token gets the live token back; any other revoked
// token is reuse and revokes the whole family. So a family stays one chain, never forks, and ends either in one
// live token or (after reuse) in none.

const SESSIONS = 4;
const CLIENTS = 6;
const ROUNDS = 6;
const FREE_RUN_STEPS = 6;

interface Family {
  sessionId: string;
  first: string;
}

let store: ServerStore;
let servers: RunningServer[] = [];
const families: Family[] = [];

const refresh = (server: RunningServer, token: string) => postJson(`${server.url}/token?grant_type=refresh_token`, { refresh_token: token });
/** The stored half of a refresh token (src/crypto/refresh-token.ts: selector ‖ mac, 22 characters each). */
const selectorOf = (token: string) => token.slice(0, 22);
const describeReply = (r: Reply) => `${r.status} ${String(r.body.error_code ?? r.body.code ?? '')}`;

/** The session's refresh_tokens rows, oldest first. */
async function tokenRows(sessionId: string) {
  const handle = await store.open();
  try {
    return await handle.db
      .selectFrom('refresh_tokens')
      .select(['id', 'token', 'parent', 'revoked'])
      .where('session_id', '=', sessionId)
      .orderBy('id')
      .execute();
  } finally {
    await handle.destroy();
  }
}

/** A family is one linear chain: the first token, then each row the only child of the row before it. */
function expectLinearChain(rows: Awaited<ReturnType<typeof tokenRows>>, first: string) {
  expect(rows[0]?.token).toBe(first);
  expect(rows[0]?.parent).toBeNull();
  rows.slice(1).forEach((row, i) => expect(row.parent, `row ${i + 1} of ${rows.length}`).toBe(rows[i]!.token));
  expect(rows.slice(0, -1).filter((r) => !r.revoked)).toEqual([]);
}

// Postgres only: two processes on one database need a server both connect to; the embedded PGlite database is
// one process's own (a second process is refused).
describe.runIf(onPostgres)('two ./gotrue serve processes refreshing the same tokens (Postgres only: see above)', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    store = await serverStore('tworef', {
      GOTRUE_MAILER_AUTOCONFIRM: 'true',
      GOTRUE_RATE_LIMIT_OTP: '100000',
      GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '100000',
      LOG_LEVEL: 'error',
    });
    const started = await Promise.allSettled([0, 1].map(() => startCliServer(store.cwd, store.env, freePort())));
    servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (let i = 0; i < SESSIONS; i++) {
      const r = await postJson(`${servers[0]!.url}/signup`, { email: `two-${i}-${Date.now()}@example.com`, password: 'two-pass-word-1' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const token = r.body.refresh_token as string;
      const handle = await store.open();
      try {
        const row = await handle.db.selectFrom('refresh_tokens').select('session_id').where('token', '=', selectorOf(token)).executeTakeFirstOrThrow();
        families.push({ sessionId: row.session_id!, first: token });
      } finally {
        await handle.destroy();
      }
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await store?.cleanup();
  });

  it('clients presenting one token at once through both servers all get the same next token, round after round', async () => {
    const heads = families.map((f) => f.first);
    const chains = families.map((f) => [f.first]);
    for (let round = 0; round < ROUNDS; round++) {
      // Every client of every session at once, alternating servers.
      const replies = await Promise.all(
        heads.flatMap((token, s) => Array.from({ length: CLIENTS }, (_, c) => refresh(servers[(s + c + round) % 2]!, token).then((r) => ({ s, r })))),
      );
      expect(replies.filter(({ r }) => r.status !== 200).map(({ r }) => describeReply(r))).toEqual([]);
      for (let s = 0; s < heads.length; s++) {
        const next = new Set(replies.filter((x) => x.s === s).map(({ r }) => r.body.refresh_token as string));
        expect(next.size, `session ${s}, round ${round}: one next token for all ${CLIENTS} clients`).toBe(1);
        heads[s] = [...next][0]!;
        chains[s]!.push(heads[s]!);
      }
    }
    for (const [s, f] of families.entries()) {
      const rows = await tokenRows(f.sessionId);
      expect(rows.map((r) => r.token)).toEqual(chains[s]!.map(selectorOf));
      expectLinearChain(rows, selectorOf(f.first));
      expect(rows.at(-1)!.revoked).toBe(false);
    }
    for (const [s, f] of families.entries()) f.first = chains[s]!.at(-1)!;
  });

  it('clients racing each other from one token get no 5xx, and each family stays one chain or is revoked whole', async () => {
    const outcomes: { s: number; r: Reply }[] = [];
    await Promise.all(
      families.flatMap((f, s) =>
        Array.from({ length: CLIENTS }, async (_, c) => {
          let token = f.first;
          for (let step = 0; step < FREE_RUN_STEPS; step++) {
            const r = await refresh(servers[(s + c + step) % 2]!, token);
            outcomes.push({ s, r });
            if (r.status !== 200) return;
            token = r.body.refresh_token as string;
          }
        }),
      ),
    );
    const statuses = outcomes.map(({ r }) => describeReply(r));
    expect(statuses.filter((s) => !['200 ', '400 refresh_token_already_used'].includes(s))).toEqual([]);

    for (const [s, f] of families.entries()) {
      const all = await tokenRows(f.sessionId);
      const rows = all.slice(all.findIndex((r) => r.token === selectorOf(f.first)));
      const children = new Map<string, number>();
      for (const r of all) if (r.parent) children.set(r.parent, (children.get(r.parent) ?? 0) + 1);
      expect([...children.values()].filter((n) => n > 1)).toEqual([]);
      expectLinearChain(all, all[0]!.token!);
      expect(rows[0]?.token).toBe(selectorOf(f.first));
      // Every token a client was given is in the chain; the chain ends in one live token, or in none when reuse
      // was reported for this family (the revocation is committed before the 400 is sent).
      const mine = outcomes.filter((o) => o.s === s);
      const given = new Set(mine.filter(({ r }) => r.status === 200).map(({ r }) => selectorOf(r.body.refresh_token as string)));
      const known = new Set(all.map((r) => r.token));
      expect([...given].filter((t) => !known.has(t))).toEqual([]);
      const reused = mine.some(({ r }) => r.status === 400);
      expect(all.filter((r) => !r.revoked).length).toBe(reused ? 0 : 1);

      // The race's starting token is now at least two rotations old (or its family is revoked): presenting it is
      // reuse through either server, and afterwards no token of the family is live.
      const stale = await refresh(servers[s % 2]!, f.first);
      expect(describeReply(stale)).toBe('400 refresh_token_already_used');
      expect((await tokenRows(f.sessionId)).filter((r) => !r.revoked)).toEqual([]);
    }
  });
});
