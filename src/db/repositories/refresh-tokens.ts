import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Executor } from '../database';
import { prepared } from '../prepared';
import type { AuditEntry } from './audit-log';
import { INSTANCE_ID, selectUserWithRelations, type UserWithRelations } from './users';

export interface NewRefreshToken {
  selector: string;
  userId: string;
  sessionId: string;
  parent: string | null;
  now: Date;
}

/** The refresh_tokens row of a new (live) token. */
export const refreshTokenRow = (t: NewRefreshToken) => ({
  instance_id: INSTANCE_ID,
  token: t.selector,
  user_id: t.userId,
  session_id: t.sessionId,
  parent: t.parent,
  revoked: false,
  created_at: t.now,
  updated_at: t.now,
});

/** The newest unrevoked token of a session. */
export async function findActiveRefreshToken(ex: Executor, sessionId: string) {
  return ex
    .selectFrom('refresh_tokens')
    .select(['id', 'token', 'parent'])
    .where('session_id', '=', sessionId)
    .where('revoked', '=', false)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Revokes every live token of the session (reuse detected: the whole family goes). */
export async function revokeSessionRefreshTokens(ex: Executor, sessionId: string, now: Date): Promise<void> {
  await ex
    .updateTable('refresh_tokens')
    .set({ revoked: true, updated_at: now })
    .where('session_id', '=', sessionId)
    .where('revoked', '=', false)
    .execute();
}

export interface RefreshContext {
  sessionId: string;
  sessionExists: boolean;
  user: UserWithRelations;
  /** The session's AMR claims, newest first (timestamps as JSON renders them). */
  amr: { authentication_method: string; updated_at: string }[];
}

/**
 * Everything a refresh needs before it takes the session lock, in one round trip: the token's session, its
 * owner with relations, whether the session still exists, and the session's AMR claims.
 */
const refreshContext = prepared(1, (ex, selector) =>
  selectUserWithRelations(ex)
    // refresh_tokens.user_id is varchar(255), as in GoTrue: cast that side so users' primary key is used.
    .innerJoin('refresh_tokens as rt', (j) => j.on((eb) => eb(sql`${sql.ref('rt.user_id')}::uuid`, '=', eb.ref('u.id'))))
    .select((eb) => [
      'rt.session_id as rt_session_id',
      eb.exists(eb.selectFrom('sessions as s').select('s.id').whereRef('s.id', '=', 'rt.session_id')).as('rt_session_exists'),
      jsonArrayFrom(
        eb
          .selectFrom('mfa_amr_claims as c')
          .select(['c.authentication_method', 'c.updated_at'])
          .whereRef('c.session_id', '=', 'rt.session_id')
          .orderBy('c.updated_at', 'desc'),
      ).as('rt_amr'),
    ])
    .where('rt.token', '=', selector!),
);

export async function findRefreshContext(ex: Executor, selector: string): Promise<RefreshContext | undefined> {
  const [row] = await refreshContext(ex, selector);
  if (!row || !row.rt_session_id) return undefined;
  const { rt_session_id, rt_session_exists, rt_amr, ...user } = row;
  return {
    sessionId: rt_session_id,
    sessionExists: Boolean(rt_session_exists),
    user: user as UserWithRelations,
    amr: rt_amr as unknown as RefreshContext['amr'],
  };
}

/**
 * Locks the session row and the presented token's row until the transaction ends (all refreshes of one session
 * run one at a time) and reads the token's state in the same statement. Both rows are locked on purpose: under
 * READ COMMITTED, Postgres re-reads only the locked rows after waiting for a lock, so a joined row that was not
 * locked would come from the statement's old snapshot and a waiter would see a token another refresh revoked
 * as still live. Undefined: no such session, or the token is not of this session.
 */
export async function lockSessionForRefresh(ex: Executor, sessionId: string, selector: string) {
  return ex
    .selectFrom('sessions as s')
    .innerJoin('refresh_tokens as rt', 'rt.session_id', 's.id')
    .select(['s.aal', 's.not_after', 's.created_at', 's.refreshed_at', 's.tag', 's.oauth_client_id', 's.scopes', 's.oauth_resource', 'rt.id as token_id', 'rt.revoked', 'rt.updated_at as token_updated_at'])
    .where('s.id', '=', sessionId)
    .where('rt.token', '=', selector)
    .forUpdate(['s', 'rt'])
    .executeTakeFirst();
}

export interface Rotation {
  /** The presented token's id, to revoke; null when it is already revoked (the reuse-interval case). */
  revokeId: string | null;
  next: NewRefreshToken;
  audit: AuditEntry[];
  /** The refreshing client, recorded on the session as GoTrue does (the sessions API shows it); absent = unchanged. */
  client?: { userAgent: string | null; ip: string | null };
}

/**
 * One rotation in one statement: revokes the presented token, inserts its child, marks the session refreshed and
 * writes the audit rows (data-modifying CTEs). Runs under the session lock of lockSessionForRefresh.
 */
export async function rotateRefreshToken(ex: Executor, r: Rotation): Promise<void> {
  const { next, audit } = r;
  await ex
    .with('revoked', (db) =>
      db
        .updateTable('refresh_tokens')
        .set({ revoked: true, updated_at: next.now })
        .where('id', '=', r.revokeId ?? '0')
        .where('revoked', '=', false)
        .returning('id'),
    )
    .with('touched', (db) =>
      db
        .updateTable('sessions')
        .set({ refreshed_at: next.now, updated_at: next.now, ...(r.client ? { user_agent: r.client.userAgent, ip: r.client.ip } : {}) })
        .where('id', '=', next.sessionId)
        .returning('id'),
    )
    .with('audited', (db) =>
      db
        .insertInto('audit_log_entries')
        .values(
          audit.map((e) => ({
            instance_id: INSTANCE_ID,
            id: e.id,
            payload: JSON.stringify(e.payload),
            ip_address: e.ipAddress.slice(0, 64),
            created_at: e.createdAt,
          })),
        )
        .returning('id'),
    )
    .insertInto('refresh_tokens')
    .values(refreshTokenRow(next))
    .execute();
}
