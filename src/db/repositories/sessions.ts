import type { QueryCreator } from 'kysely';
import type { Executor } from '../database';
import type { AalLevel, Database, SessionRow } from '../schema';
import { amrClaimRow, type NewAmrClaim } from './amr-claims';
import { auditRow, type AuditEntry } from './audit-log';
import { endingSession, hearsBackchannel, type EndingSession } from './oauth-logout';
import { refreshTokenRow, type NewRefreshToken } from './refresh-tokens';
import { selectUserWithRelations, type UserWithRelations } from './users';

export interface NewSession {
  id: string;
  userId: string;
  aal: AalLevel;
  now: Date;
  userAgent: string | null;
  ip: string | null;
  oauthClientId: string | null;
  /** OAuth server sessions: the granted scopes (space-separated), the RFC 8707 resource, when the session ends. */
  scopes?: string | null;
  oauthResource?: string | null;
  notAfter?: Date | null;
}

/**
 * Starts a session in one statement (data-modifying CTEs): the session row, its first refresh token (none when
 * `firstToken` is null: a session held by reference, domain/sessions startTokenlessSession), its AMR claims and the sign-in's
 * audit rows; the statement's result is the user with relations as the transaction sees it, so the caller's earlier
 * writes to the user are in it. The foreign keys to the new session are checked at the end of the statement.
 */
export async function insertSessionReturningUser(
  ex: Executor,
  s: NewSession,
  firstToken: NewRefreshToken | null,
  amr: NewAmrClaim[],
  /** Audit rows of the sign-in, written by the same statement. */
  audit: AuditEntry[] = [],
): Promise<UserWithRelations | undefined> {
  const sessionWrite = ex.with('new_session', (db) =>
    db
      .insertInto('sessions')
      .values({ id: s.id, user_id: s.userId, aal: s.aal, created_at: s.now, updated_at: s.now, user_agent: s.userAgent, ip: s.ip, oauth_client_id: s.oauthClientId, scopes: s.scopes ?? null, oauth_resource: s.oauthResource ?? null, not_after: s.notAfter ?? null })
      .returning('id'),
  );
  // A CTE only adds its name to the query creator's database type, which nothing after it reads.
  const tokenWrite = firstToken
    ? (sessionWrite.with('new_token', (db) => db.insertInto('refresh_tokens').values(refreshTokenRow(firstToken)).returning('id')) as unknown as typeof sessionWrite)
    : sessionWrite;
  const sessionWrites = tokenWrite.with('new_amr', (db) => db.insertInto('mfa_amr_claims').values(amr.map(amrClaimRow)).returning('id'));
  const writes = audit.length > 0 ? sessionWrites.with('audited', (db) => db.insertInto('audit_log_entries').values(audit.map(auditRow)).returning('id')) : sessionWrites;
  // The CTEs only add names to the query creator's database type; the user SELECT does not read them.
  const user = await selectUserWithRelations(writes as unknown as QueryCreator<Database>)
    .where('u.id', '=', s.userId)
    .executeTakeFirst();
  return user as UserWithRelations | undefined;
}

/**
 * Deletes sessions of a user (their refresh tokens and AMR claims go by cascade).
 * `only`: just that session; `except`: all but that one; neither: all.
 */
export async function deleteSessions(
  ex: Executor,
  userId: string,
  which: { only?: string; except?: string } = {},
): Promise<number> {
  let q = ex.deleteFrom('sessions').where('user_id', '=', userId);
  if (which.only !== undefined) q = q.where('id', '=', which.only);
  if (which.except !== undefined) q = q.where('id', '!=', which.except);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function findSession(ex: Executor, sessionId: string): Promise<SessionRow | undefined> {
  return ex.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
}

/** Locks the user's session row for an AAL change; undefined when it is gone or not theirs. */
export async function lockUserSession(ex: Executor, userId: string, sessionId: string): Promise<Pick<SessionRow, 'id' | 'aal' | 'factor_id' | 'oauth_client_id' | 'created_at'> | undefined> {
  return ex
    .selectFrom('sessions')
    .select(['id', 'aal', 'factor_id', 'oauth_client_id', 'created_at'])
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
}

export async function setSessionAal(ex: Executor, sessionId: string, aal: AalLevel, factorId: string | null, now: Date): Promise<void> {
  await ex.updateTable('sessions').set({ aal, factor_id: factorId, updated_at: now }).where('id', '=', sessionId).execute();
}

/**
 * GoTrue's InvalidateSessionsWithAALLessThan(aal2): the user's aal1 sessions end, in one DELETE … RETURNING that
 * also names those held by OAuth clients with a back-channel logout URI (to be told after commit).
 */
export async function deleteAal1Sessions(ex: Executor, userId: string): Promise<EndingSession[]> {
  const rows = await ex
    .with('gone', (db) => db.deleteFrom('sessions').where('user_id', '=', userId).where('aal', '=', 'aal1').returning(['id', 'user_id', 'oauth_client_id']))
    .selectFrom('gone')
    .innerJoin('oauth_clients as c', 'c.id', 'gone.oauth_client_id')
    .select(['gone.id as session_id', 'gone.user_id', 'c.id as client_id', 'c.backchannel_logout_uri'])
    .where(hearsBackchannel)
    .execute();
  return rows.map(endingSession);
}

/**
 * GoTrue's DowngradeSessionsToAAL1: sessions raised by the factor lose its AMR method and drop to aal1. `factorId`
 * undefined: every session of the user (their last verified factor went).
 */
export async function downgradeSessions(ex: Executor, userId: string, which: { factorId?: string; amrMethods: string[] }, now: Date): Promise<void> {
  let sessions = ex.selectFrom('sessions').select('id').where('user_id', '=', userId);
  if (which.factorId !== undefined) sessions = sessions.where('factor_id', '=', which.factorId);
  if (which.amrMethods.length > 0) {
    await ex.deleteFrom('mfa_amr_claims').where('session_id', 'in', sessions).where('authentication_method', 'in', which.amrMethods).execute();
  }
  let q = ex.updateTable('sessions').set({ aal: 'aal1', factor_id: null, updated_at: now }).where('user_id', '=', userId);
  if (which.factorId !== undefined) q = q.where('factor_id', '=', which.factorId);
  else q = q.where('aal', '!=', 'aal1');
  await q.execute();
}

/**
 * GOTRUE_SESSIONS_SINGLE_PER_USER at sign-in: the user's other first-party sessions that are still live and count
 * under `tag` end now (not_after = now; the refresh grant then answers session_expired, the housekeeping loop deletes
 * them). `tags` is GOTRUE_SESSIONS_TAGS: a session whose tag is not listed counts as the first listed one.
 */
export async function endOlderSessions(ex: Executor, userId: string, keepId: string, tag: string, tags: readonly string[], now: Date): Promise<number> {
  let q = ex
    .updateTable('sessions')
    .set({ not_after: now, updated_at: now })
    .where('user_id', '=', userId)
    .where('id', '!=', keepId)
    .where('oauth_client_id', 'is', null)
    .where((eb) => eb.or([eb('not_after', 'is', null), eb('not_after', '>', now)]));
  if (tags.length > 0) {
    q =
      tag === tags[0]
        ? q.where((eb) => eb.or([eb('tag', 'is', null), eb('tag', '=', ''), eb('tag', '=', tag), eb('tag', 'not in', [...tags])]))
        : q.where('tag', '=', tag);
  }
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** A user's sessions, newest first, with the fields the sessions API shows. */
export async function listUserSessions(ex: Executor, userId: string) {
  return ex
    .selectFrom('sessions')
    .select(['id', 'created_at', 'updated_at', 'refreshed_at', 'not_after', 'user_agent', 'ip', 'aal', 'factor_id', 'tag', 'oauth_client_id'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}
