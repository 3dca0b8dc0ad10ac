import type { Executor } from '../database';
import { INSTANCE_ID } from './users';

export interface NewRefreshToken {
  selector: string;
  userId: string;
  sessionId: string;
  parent: string | null;
  now: Date;
}

export async function insertRefreshToken(ex: Executor, t: NewRefreshToken): Promise<void> {
  await ex
    .insertInto('refresh_tokens')
    .values({
      instance_id: INSTANCE_ID,
      token: t.selector,
      user_id: t.userId,
      session_id: t.sessionId,
      parent: t.parent,
      revoked: false,
      created_at: t.now,
      updated_at: t.now,
    })
    .execute();
}

/** A token row by its stored selector. */
export async function findRefreshToken(ex: Executor, selector: string) {
  return ex
    .selectFrom('refresh_tokens')
    .select(['id', 'token', 'user_id', 'session_id', 'revoked', 'parent', 'updated_at'])
    .where('token', '=', selector)
    .executeTakeFirst();
}

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

export async function revokeRefreshToken(ex: Executor, id: string, now: Date): Promise<void> {
  await ex.updateTable('refresh_tokens').set({ revoked: true, updated_at: now }).where('id', '=', id).execute();
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
