import type { Executor } from '../database';
import type { ProviderTokenRow } from '../schema';

export interface ProviderTokenUpsert {
  id: string;
  identityId: string;
  userId: string;
  provider: string;
  /** Sealed. */
  accessToken: string;
  /** Sealed; null keeps the stored one (providers send a refresh token only on first consent). */
  refreshToken: string | null;
  tokenType: string | null;
  scope: string | null;
  expiresAt: Date | null;
  now: Date;
}

/** Stores the tokens of a sign-in for an identity, un-revoking it. */
export async function upsertProviderTokens(ex: Executor, t: ProviderTokenUpsert): Promise<void> {
  await ex
    .insertInto('provider_tokens')
    .values({
      id: t.id,
      identity_id: t.identityId,
      user_id: t.userId,
      provider: t.provider,
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
      token_type: t.tokenType,
      scope: t.scope,
      expires_at: t.expiresAt,
      revoked_at: null,
      refreshed_at: null,
      created_at: t.now,
      updated_at: t.now,
    })
    .onConflict((oc) =>
      oc.column('identity_id').doUpdateSet((eb) => ({
        access_token: eb.ref('excluded.access_token'),
        refresh_token: t.refreshToken === null ? eb.ref('provider_tokens.refresh_token') : eb.ref('excluded.refresh_token'),
        token_type: eb.ref('excluded.token_type'),
        scope: eb.ref('excluded.scope'),
        expires_at: eb.ref('excluded.expires_at'),
        revoked_at: null,
        updated_at: t.now,
      })),
    )
    .execute();
}

/** The user's token row for a provider: the identity used most recently, if the user has several. */
export async function findProviderTokens(ex: Executor, userId: string, provider: string): Promise<ProviderTokenRow | undefined> {
  return ex
    .selectFrom('provider_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .orderBy('updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Locks a token row until the transaction ends: the one refresh of several processes runs under it. */
export async function lockProviderTokens(ex: Executor, id: string): Promise<ProviderTokenRow | undefined> {
  return ex.selectFrom('provider_tokens').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateRefreshedTokens(
  ex: Executor,
  id: string,
  t: { accessToken: string; refreshToken: string | null; expiresAt: Date | null; scope: string | null; now: Date },
): Promise<void> {
  await ex
    .updateTable('provider_tokens')
    .set((eb) => ({
      access_token: t.accessToken,
      refresh_token: t.refreshToken === null ? eb.ref('refresh_token') : t.refreshToken,
      expires_at: t.expiresAt,
      scope: t.scope === null ? eb.ref('scope') : t.scope,
      refreshed_at: t.now,
      updated_at: t.now,
    }))
    .where('id', '=', id)
    .execute();
}

/** The provider revoked the grant: the tokens are dropped, the row remembers when. */
export async function markProviderTokensRevoked(ex: Executor, id: string, now: Date): Promise<void> {
  await ex.updateTable('provider_tokens').set({ access_token: null, refresh_token: null, revoked_at: now, updated_at: now }).where('id', '=', id).execute();
}
