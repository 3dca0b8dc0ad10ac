import { sql, type SelectQueryBuilder } from 'kysely';
import type { Executor } from '../database';
import type { Database } from '../schema';

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

const count = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);

/** The statements for one round, in order; a statement is left out when its policy is off. */
export function cleanupStatements(c: CleanupCutoffs): CleanupStatement[] {
  const list: CleanupStatement[] = [
    {
      name: 'revoked_refresh_tokens',
      run: async (ex, n) =>
        count(
          await ex
            .deleteFrom('refresh_tokens')
            .where('id', 'in', ex.selectFrom('refresh_tokens').select('id').where('revoked', '=', true).where('updated_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked())
            .executeTakeFirst(),
        ),
    },
    // Sessions: their refresh tokens and AMR claims go by cascade.
    sessionsWhere('ended_sessions', (q) => q.where('not_after', '<', c.retireBefore)),
    {
      name: 'flow_states',
      run: async (ex, n) =>
        count(await ex.deleteFrom('flow_state').where('id', 'in', ex.selectFrom('flow_state').select('id').where('created_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked()).executeTakeFirst()),
    },
    {
      name: 'oauth_client_states',
      run: async (ex, n) =>
        count(
          await ex
            .deleteFrom('oauth_client_states')
            .where('id', 'in', ex.selectFrom('oauth_client_states').select('id').where('created_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked())
            .executeTakeFirst(),
        ),
    },
    {
      // OAuth authorization requests (issue 12) past their expiry: pending ones can no longer be approved, and an
      // approved one's code can no longer be redeemed; a second use of a code after this is plain invalid_grant.
      name: 'expired_oauth_authorizations',
      run: async (ex, n) =>
        count(
          await ex
            .deleteFrom('oauth_authorizations')
            .where('id', 'in', ex.selectFrom('oauth_authorizations').select('id').where('expires_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked())
            .executeTakeFirst(),
        ),
    },
    {
      name: 'mfa_challenges',
      run: async (ex, n) =>
        count(
          await ex.deleteFrom('mfa_challenges').where('id', 'in', ex.selectFrom('mfa_challenges').select('id').where('created_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked()).executeTakeFirst(),
        ),
    },
    {
      name: 'unverified_mfa_factors',
      run: async (ex, n) =>
        count(
          await ex
            .deleteFrom('mfa_factors')
            .where('id', 'in', ex.selectFrom('mfa_factors').select('id').where('status', '=', 'unverified').where('created_at', '<', c.retireBefore).limit(n).forUpdate().skipLocked())
            .executeTakeFirst(),
        ),
    },
    {
      // A used one-time token is deleted when it is consumed; what is left here is expired.
      name: 'expired_one_time_tokens',
      run: async (ex, n) =>
        count(
          await ex
            .deleteFrom('one_time_tokens')
            .where('id', 'in', ex.selectFrom('one_time_tokens').select('id').where('created_at', '<', c.tokensIssuedBefore).limit(n).forUpdate().skipLocked())
            .executeTakeFirst(),
        ),
    },
  ];
  const started = c.sessionsStartedBefore;
  if (started) list.push(sessionsWhere('timeboxed_sessions', (q) => q.where('created_at', '<', started)));
  const idle = c.sessionsIdleSince;
  if (idle) list.push(sessionsWhere('inactive_sessions', (q) => q.where((eb) => eb(eb.fn.coalesce('refreshed_at', 'created_at'), '<', idle))));
  return list;
}

type SessionIds = SelectQueryBuilder<Database, 'sessions', { id: string }>;

function sessionsWhere(name: string, filter: (q: SessionIds) => SessionIds): CleanupStatement {
  return {
    name,
    run: async (ex, n) =>
      count(await ex.deleteFrom('sessions').where('id', 'in', filter(ex.selectFrom('sessions').select('id')).limit(n).forUpdate().skipLocked()).executeTakeFirst()),
  };
}

/** Takes the housekeeping lock for the caller's transaction, if no other server holds it. */
export async function tryCleanupLock(ex: Executor): Promise<boolean> {
  // Two int4 keys: "gotr" and "clen", so the lock never collides with another application's advisory locks.
  const r = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(1735357554, 1668048238) as locked`.execute(ex);
  return r.rows[0]?.locked === true;
}
