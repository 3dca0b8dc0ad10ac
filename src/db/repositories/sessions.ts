import type { Executor } from '../database';
import type { AalLevel, SessionRow } from '../schema';

export interface NewSession {
  id: string;
  userId: string;
  aal: AalLevel;
  now: Date;
  userAgent: string | null;
  ip: string | null;
}

export async function insertSession(ex: Executor, s: NewSession): Promise<void> {
  await ex
    .insertInto('sessions')
    .values({
      id: s.id,
      user_id: s.userId,
      aal: s.aal,
      created_at: s.now,
      updated_at: s.now,
      user_agent: s.userAgent,
      ip: s.ip,
    })
    .execute();
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
