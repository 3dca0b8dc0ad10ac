import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { claimsOf, refresh, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { onPostgres } from '../helpers/test-db';

const { db, app } = useTestApp();

/** The stored half of a refresh token (src/crypto/refresh-token.ts). */
const selectorOf = (token: string) => token.slice(0, 22);

/** Resolves once some statement of this database waits for a row lock. */
async function untilALockIsAwaited() {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db.db);
    if (rows[0]!.n > 0) return;
    if (Date.now() > deadline) throw new Error('no refresh is waiting for the session lock');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Postgres only: PGlite runs one transaction at a time (src/db/pglite-dialect.ts), so a refresh can never wait
// on the session lock while another transaction revokes its token.
describe.skipIf(!onPostgres)('a refresh waiting behind another refresh of its session (Postgres only: see above)', () => {
  it('judges the reuse interval at the time it holds the lock: a token revoked while it waited is reuse, not a second child', async () => {
    const { body } = await signUp(app);
    const t0 = body.refresh_token;
    const t1 = (await refresh(app, t0)).body.refresh_token as string;
    expect((await refresh(app, t1)).status).toBe(200);
    const sessionId = claimsOf(body.access_token).session_id as string;

    // Hold the session lock; start a refresh of t0 (it reads the clock, then waits on the lock); and while it
    // waits, stamp t0's revocation "now", as if the rotation that revoked it committed during the wait.
    let pending!: Promise<{ status: number; body: Record<string, unknown> }>;
    await db.db.transaction().execute(async (trx) => {
      await trx.selectFrom('sessions').select('id').where('id', '=', sessionId).forUpdate().execute();
      pending = refresh(app, t0).then((r) => ({ status: r.status, body: r.body as Record<string, unknown> }));
      await untilALockIsAwaited();
      await trx.updateTable('refresh_tokens').set({ updated_at: new Date() }).where('token', '=', selectorOf(t0)).execute();
    });
    const r = await pending;

    expect([r.status, r.body.code]).toEqual([400, 'refresh_token_already_used']);
    const children = await db.db.selectFrom('refresh_tokens').select('id').where('parent', '=', selectorOf(t0)).execute();
    expect(children).toHaveLength(1);
  });
});
