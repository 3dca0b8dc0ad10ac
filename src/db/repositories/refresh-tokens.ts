import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Executor } from '../database';
import { prepared } from '../prepared';
import type { AalLevel, OauthResourceRow } from '../schema';
import { auditRow, type AuditEntry } from './audit-log';
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

/** The presented token's session, locked, with everything a rotation judges and the token response carries. */
export interface RefreshContext {
  sessionId: string;
  /** The owner with identities and factors, as the token response and the ban check need them. */
  user: UserWithRelations;
  /** The session's AMR claims, newest first (timestamps as JSON renders them). */
  amr: { authentication_method: string; updated_at: string }[];
  session: {
    aal: AalLevel | null;
    not_after: Date | null;
    created_at: Date | null;
    refreshed_at: Date | null;
    tag: string | null;
    oauth_client_id: string | null;
    scopes: string | null;
    oauth_resource: string | null;
  };
  token: { id: string; revoked: boolean | null; updated_at: Date | null };
  /** The stored oauth_resources row the session is bound to (session.oauth_resource); undefined when there is none. */
  resource: Pick<OauthResourceRow, 'resource' | 'name' | 'scopes' | 'access_token_ttl' | 'signing_alg'> | undefined;
}

const refreshContext = prepared(1, (ex, selector) =>
  selectUserWithRelations(ex)
    // refresh_tokens.user_id is varchar(255), as in GoTrue: cast that side so users' primary key is used.
    .innerJoin('refresh_tokens as rt', (j) => j.on((eb) => eb(sql`${sql.ref('rt.user_id')}::uuid`, '=', eb.ref('u.id'))))
    .innerJoin('sessions as s', 's.id', 'rt.session_id')
    // A resource-bound OAuth session's resource, by its unique URI: no second round trip for its policy.
    .leftJoin('oauth_resources as r', 'r.resource', 's.oauth_resource')
    .select((eb) => [
      's.id as s_id',
      's.aal as s_aal',
      's.not_after as s_not_after',
      's.created_at as s_created_at',
      's.refreshed_at as s_refreshed_at',
      's.tag as s_tag',
      's.oauth_client_id as s_oauth_client_id',
      's.scopes as s_scopes',
      's.oauth_resource as s_oauth_resource',
      'rt.id as rt_id',
      'rt.revoked as rt_revoked',
      'rt.updated_at as rt_updated_at',
      'r.resource as r_resource',
      'r.name as r_name',
      'r.scopes as r_scopes',
      'r.access_token_ttl as r_access_token_ttl',
      'r.signing_alg as r_signing_alg',
      jsonArrayFrom(
        eb
          .selectFrom('mfa_amr_claims as c')
          .select(['c.authentication_method', 'c.updated_at'])
          .whereRef('c.session_id', '=', 's.id')
          .orderBy('c.updated_at', 'desc'),
      ).as('s_amr'),
    ])
    .where('rt.token', '=', selector!)
    .forUpdate(['s', 'rt']),
);

/**
 * The refresh grant's first statement inside its transaction (one round trip; a named statement on Postgres, so
 * its plan is made once per connection): locks the presented token's session row and the token's row until the
 * transaction ends — all refreshes of one session run one at a time — and reads with them the token's state, the
 * session's policy fields and AMR claims, the owner with relations, and the stored resource the session is bound to. Both rows are locked on purpose: under READ COMMITTED, Postgres re-reads only the locked rows after waiting for a lock, so
 * a joined row that was not locked would come from the statement's old snapshot and a waiter would see a token
 * another refresh revoked as still live. The user, AMR and resource rows are not locked: they are what the access
 * token states, read as the statement's snapshot saw them (as a read before the lock would; a resource deleted
 * meanwhile took the session with it, and the locked session row is then gone). Undefined: no such token,
 * or its session is gone.
 */
export async function lockRefreshContext(ex: Executor, selector: string): Promise<RefreshContext | undefined> {
  const [row] = await refreshContext(ex, selector);
  if (!row) return undefined;
  const { s_id, s_aal, s_not_after, s_created_at, s_refreshed_at, s_tag, s_oauth_client_id, s_scopes, s_oauth_resource, rt_id, rt_revoked, rt_updated_at, s_amr, r_resource, r_name, r_scopes, r_access_token_ttl, r_signing_alg, ...user } = row;
  return {
    sessionId: s_id,
    user: user as UserWithRelations,
    amr: s_amr as unknown as RefreshContext['amr'],
    session: { aal: s_aal, not_after: s_not_after, created_at: s_created_at, refreshed_at: s_refreshed_at, tag: s_tag, oauth_client_id: s_oauth_client_id, scopes: s_scopes, oauth_resource: s_oauth_resource },
    token: { id: rt_id, revoked: rt_revoked, updated_at: rt_updated_at },
    resource: r_resource === null ? undefined : { resource: r_resource, name: r_name!, scopes: r_scopes!, access_token_ttl: r_access_token_ttl, signing_alg: r_signing_alg },
  };
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
 * writes the audit rows (data-modifying CTEs). Runs under the session lock of lockSessionForRefresh. Its shape is
 * fixed — the audit rows arrive as arrays (unnest), the refreshing client behind a flag — so it is compiled once and
 * runs as a named statement: built and planned per refresh, it cost Kysely ~0.2 ms and Postgres a plan each time.
 */
const rotation = prepared(13, (ex, revokeId, now, sessionId, setClient, userAgent, ip, auditIds, auditPayloads, auditIps, auditTimes, selector, userId, parent) => {
  // The placeholders stand for the call's values: `now` is a Date then.
  const at = now as unknown as Date;
  return ex
    .with('revoked', (db) =>
      db.updateTable('refresh_tokens').set({ revoked: true, updated_at: at }).where('id', '=', revokeId!).where('revoked', '=', false).returning('id'),
    )
    .with('touched', (db) =>
      db
        .updateTable('sessions')
        .set({
          refreshed_at: at,
          updated_at: at,
          user_agent: sql<string | null>`case when ${setClient}::boolean then ${userAgent}::text else user_agent end`,
          ip: sql<string | null>`case when ${setClient}::boolean then ${ip}::inet else ip end`,
        })
        .where('id', '=', sessionId!)
        .returning('id'),
    )
    .with('audited', (db) =>
      db
        .insertInto('audit_log_entries')
        .columns(['instance_id', 'id', 'payload', 'ip_address', 'created_at'])
        .expression(
          sql`select ${INSTANCE_ID}::uuid, a.id, a.payload, a.ip_address, a.created_at
              from unnest(${auditIds}::uuid[], ${auditPayloads}::json[], ${auditIps}::varchar[], ${auditTimes}::timestamptz[])
                as a (id, payload, ip_address, created_at)`,
        )
        .returning('id'),
    )
    .insertInto('refresh_tokens')
    .values(refreshTokenRow({ selector: selector!, userId: userId!, sessionId: sessionId!, parent: parent!, now: at }));
});

export async function rotateRefreshToken(ex: Executor, r: Rotation): Promise<void> {
  const { next, audit } = r;
  const rows = audit.map(auditRow);
  await rotation(
    ex,
    r.revokeId ?? '0',
    next.now,
    next.sessionId,
    r.client !== undefined,
    r.client?.userAgent ?? null,
    r.client?.ip ?? null,
    rows.map((a) => a.id),
    rows.map((a) => a.payload),
    rows.map((a) => a.ip_address),
    rows.map((a) => a.created_at),
    next.selector,
    next.userId,
    next.parent,
  );
}
