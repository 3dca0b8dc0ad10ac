import type { Executor } from '../database';
import type { OneTimeTokenRow, OneTimeTokenType, UserRow } from '../schema';

export interface NewOneTimeToken {
  id: string;
  userId: string;
  tokenType: OneTimeTokenType;
  tokenHash: string;
  relatesTo: string;
  now: Date;
}

/** Stores the user's token of this type, replacing the previous one (one per user and type) and its attempt count. */
export async function upsertOneTimeToken(ex: Executor, t: NewOneTimeToken): Promise<void> {
  await ex
    .insertInto('one_time_tokens')
    .values({ id: t.id, user_id: t.userId, token_type: t.tokenType, token_hash: t.tokenHash, relates_to: t.relatesTo, created_at: t.now, updated_at: t.now })
    .onConflict((oc) =>
      oc.columns(['user_id', 'token_type']).doUpdateSet({ id: t.id, token_hash: t.tokenHash, relates_to: t.relatesTo, created_at: t.now, updated_at: t.now, verify_attempts: 0 }),
    )
    .execute();
}

export async function findOneTimeToken(ex: Executor, userId: string, tokenType: OneTimeTokenType): Promise<OneTimeTokenRow | undefined> {
  return ex.selectFrom('one_time_tokens').selectAll().where('user_id', '=', userId).where('token_type', '=', tokenType).executeTakeFirst();
}

/** Puts back a token row exactly as it was (undoing a replacement whose message could not be sent). */
export async function restoreOneTimeToken(ex: Executor, row: OneTimeTokenRow): Promise<void> {
  await ex
    .insertInto('one_time_tokens')
    .values({ ...row })
    .onConflict((oc) => oc.columns(['user_id', 'token_type']).doNothing())
    .execute();
}

export type TokenWithUser = { token: OneTimeTokenRow; user: UserRow };

async function withUsers(ex: Executor, tokens: OneTimeTokenRow[]): Promise<TokenWithUser[]> {
  if (tokens.length === 0) return [];
  const users = await ex.selectFrom('users').selectAll().where('id', 'in', [...new Set(tokens.map((t) => t.user_id))]).execute();
  const byId = new Map(users.map((u) => [u.id, u]));
  return tokens.flatMap((token) => {
    const user = byId.get(token.user_id);
    return user ? [{ token, user }] : [];
  });
}

/** Tokens whose stored value is one of `hashes` (a link's token, or token_hash), of the given types. */
export async function findTokensByHash(ex: Executor, hashes: string[], types: OneTimeTokenType[]): Promise<TokenWithUser[]> {
  const rows = await ex.selectFrom('one_time_tokens').selectAll().where('token_hash', 'in', hashes).where('token_type', 'in', types).execute();
  return withUsers(ex, rows);
}

/** Tokens sent to this address or phone, of the given types, of users in the audience (a typed code's candidates). */
export async function findTokensForIdentifier(ex: Executor, relatesTo: string, types: OneTimeTokenType[], aud: string): Promise<TokenWithUser[]> {
  const rows = await ex
    .selectFrom('one_time_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .selectAll('t')
    .where('t.relates_to', '=', relatesTo)
    .where('t.token_type', 'in', types)
    .where('u.aud', '=', aud)
    .execute();
  return withUsers(ex, rows);
}

/** Deletes this exact token. Exactly one concurrent caller receives the row; the rest get undefined. */
export async function consumeOneTimeToken(ex: Executor, id: string, tokenHash: string): Promise<OneTimeTokenRow | undefined> {
  return ex.deleteFrom('one_time_tokens').where('id', '=', id).where('token_hash', '=', tokenHash).returningAll().executeTakeFirst();
}

/** Counts a wrong guess against each of these tokens; returns their new counts. */
export async function recordFailedAttempts(ex: Executor, ids: string[]): Promise<OneTimeTokenRow[]> {
  if (ids.length === 0) return [];
  return ex
    .updateTable('one_time_tokens')
    .set((eb) => ({ verify_attempts: eb('verify_attempts', '+', 1) }))
    .where('id', 'in', ids)
    .returningAll()
    .execute();
}

/** Deletes the user's tokens (all of them, or those of the given types). */
export async function deleteOneTimeTokens(ex: Executor, userId: string, types?: OneTimeTokenType[]): Promise<void> {
  let q = ex.deleteFrom('one_time_tokens').where('user_id', '=', userId);
  if (types) q = q.where('token_type', 'in', types);
  await q.execute();
}

/** Deletes one token if it still holds this value (a newer token of the type is left alone). */
export async function deleteOneTimeTokenIfUnchanged(ex: Executor, userId: string, tokenType: OneTimeTokenType, tokenHash: string): Promise<void> {
  await ex.deleteFrom('one_time_tokens').where('user_id', '=', userId).where('token_type', '=', tokenType).where('token_hash', '=', tokenHash).execute();
}
