import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../database';

/**
 * The housekeeping statements: each deletes at most `limit` rows that can no longer be used, chosen with
 * FOR UPDATE SKIP LOCKED so a row a request holds is left for the next round. Times come from the caller's clock.
 */

export interface CleanupCutoffs {
  /** Rows dead for longer than this are deleted (GoTrue keeps them 24 hours). */
  retireBefore: Date;
  /** One-time tokens issued before this are past every expiry. */
  tokensIssuedBefore: Date;
  /** Sessions started before this are past GOTRUE_SESSIONS_TIMEBOX (+ the retention); undefined = no timebox. */
  sessionsStartedBefore: Date | undefined;
  /** Sessions last active before this are past GOTRUE_SESSIONS_INACTIVITY_TIMEOUT (+ the retention); undefined = none. */
  sessionsIdleSince: Date | undefined;
}

export type CleanupStatement = { name: string; run: (ex: Executor, limit: number) => Promise<number> };

const deleted = async (ex: Executor, query: RawBuilder<unknown>): Promise<number> => Number((await query.execute(ex)).numAffectedRows ?? 0);

/** The statements for one round, in order; a statement is left out when its policy is off. */
export function cleanupStatements(c: CleanupCutoffs): CleanupStatement[] {
  const list: CleanupStatement[] = [
    {
      name: 'revoked_refresh_tokens',
      run: (ex, n) => deleted(ex, sql`delete from refresh_tokens where id in (select id from refresh_tokens where revoked and updated_at < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      // Their refresh tokens and AMR claims go by cascade.
      name: 'ended_sessions',
      run: (ex, n) => deleted(ex, sql`delete from sessions where id in (select id from sessions where not_after < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      name: 'flow_states',
      run: (ex, n) => deleted(ex, sql`delete from flow_state where id in (select id from flow_state where created_at < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      name: 'oauth_client_states',
      run: (ex, n) =>
        deleted(ex, sql`delete from oauth_client_states where id in (select id from oauth_client_states where created_at < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      name: 'mfa_challenges',
      run: (ex, n) => deleted(ex, sql`delete from mfa_challenges where id in (select id from mfa_challenges where created_at < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      name: 'unverified_mfa_factors',
      run: (ex, n) =>
        deleted(ex, sql`delete from mfa_factors where id in (select id from mfa_factors where status = 'unverified' and created_at < ${c.retireBefore} limit ${n} for update skip locked)`),
    },
    {
      // A used one-time token is deleted when it is consumed; what is left here is expired.
      name: 'expired_one_time_tokens',
      run: (ex, n) => deleted(ex, sql`delete from one_time_tokens where id in (select id from one_time_tokens where created_at < ${c.tokensIssuedBefore} limit ${n} for update skip locked)`),
    },
  ];
  const started = c.sessionsStartedBefore;
  if (started) {
    list.push({
      name: 'timeboxed_sessions',
      run: (ex, n) => deleted(ex, sql`delete from sessions where id in (select id from sessions where created_at < ${started} limit ${n} for update skip locked)`),
    });
  }
  const idle = c.sessionsIdleSince;
  if (idle) {
    list.push({
      name: 'inactive_sessions',
      run: (ex, n) =>
        deleted(ex, sql`delete from sessions where id in (select id from sessions where coalesce(refreshed_at, created_at) < ${idle} limit ${n} for update skip locked)`),
    });
  }
  return list;
}

/** Takes the housekeeping lock for the caller's transaction, if no other server holds it. */
export async function tryCleanupLock(ex: Executor): Promise<boolean> {
  // Two int4 keys: "gotr" and "clen", so the lock never collides with another application's advisory locks.
  const r = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(1735357554, 1668048238) as locked`.execute(ex);
  return r.rows[0]?.locked === true;
}
