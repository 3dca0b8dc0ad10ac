import type { Executor } from '../db/database';
import { updateRefreshedTokens, upsertProviderTokens } from '../db/repositories/provider-tokens';
import type { ProviderTokenRow } from '../db/schema';
import type { Deps } from '../deps';
import type { ProviderTokenSet } from '../external/types';

/** Sealing contexts: a ciphertext only opens in the row and column it was written for. */
export const vaultContext = (identityId: string, kind: 'access' | 'refresh') => `provider_tokens:${identityId}:${kind}`;
export const flowTokenContext = (flowId: string, kind: 'access' | 'refresh') => `flow_state:${flowId}:${kind}`;

/**
 * The vault rows: findProviderTokens (a user's row for a provider, the identity used most recently),
 * lockProviderTokens (the one refresh of several processes runs under the row's lock), markProviderTokensRevoked
 * (the provider revoked the grant: the tokens go, the row remembers when).
 */
export { findProviderTokens, lockProviderTokens, markProviderTokensRevoked } from '../db/repositories/provider-tokens';

/**
 * Keeps a sign-in's provider tokens in the vault (inside the sign-in's transaction). Without vault keys nothing
 * is stored: the tokens are handed to the client once and forgotten, as GoTrue does.
 */
export async function storeProviderTokens(
  trx: Executor,
  deps: Pick<Deps, 'vault' | 'random' | 'clock'>,
  t: { identityId: string; userId: string; provider: string; tokens: ProviderTokenSet; keepRefreshToken: boolean },
): Promise<void> {
  if (!deps.vault.enabled) return;
  const refresh = t.keepRefreshToken && t.tokens.refreshToken ? deps.vault.seal(t.tokens.refreshToken, vaultContext(t.identityId, 'refresh')) : null;
  await upsertProviderTokens(trx, {
    id: deps.random.uuid(),
    identityId: t.identityId,
    userId: t.userId,
    provider: t.provider,
    accessToken: deps.vault.seal(t.tokens.accessToken, vaultContext(t.identityId, 'access')),
    refreshToken: refresh,
    tokenType: t.tokens.tokenType ?? null,
    scope: t.tokens.scope ?? null,
    expiresAt: t.tokens.expiresAt ?? null,
    now: deps.clock.now(),
  });
}

/** flow_state keeps provider tokens until the PKCE exchange: sealed when the vault has a key. */
export function sealFlowToken(deps: Pick<Deps, 'vault'>, flowId: string, kind: 'access' | 'refresh', token: string | undefined): string | null {
  if (!token) return null;
  return deps.vault.enabled ? deps.vault.seal(token, flowTokenContext(flowId, kind)) : token;
}

/** Opens a flow's provider token; a value that no longer opens (the key was removed) is dropped, not an error. */
export function openFlowToken(deps: Pick<Deps, 'vault'>, flowId: string, kind: 'access' | 'refresh', value: string | null): string | null {
  if (!value) return null;
  try {
    return deps.vault.openIfSealed(value, flowTokenContext(flowId, kind));
  } catch {
    return null;
  }
}

/** A vault row's access token, opened. */
export const openStoredAccessToken = (deps: Pick<Deps, 'vault'>, row: ProviderTokenRow): string => deps.vault.open(row.access_token!, vaultContext(row.identity_id, 'access'));

/** A vault row's refresh token, opened; null when it has none. */
export const openStoredRefreshToken = (deps: Pick<Deps, 'vault'>, row: ProviderTokenRow): string | null =>
  row.refresh_token ? deps.vault.open(row.refresh_token, vaultContext(row.identity_id, 'refresh')) : null;

/**
 * Stores what a refresh returned, sealed for the row, inside the refresh's transaction. A provider that sent no new
 * refresh token (or whose refresh tokens are not kept) leaves the stored one, and no scope leaves the stored scope.
 */
export async function storeRefreshedTokens(
  trx: Executor,
  deps: Pick<Deps, 'vault' | 'clock'>,
  row: ProviderTokenRow,
  t: { tokens: ProviderTokenSet; keepRefreshToken: boolean },
): Promise<void> {
  await updateRefreshedTokens(trx, row.id, {
    accessToken: deps.vault.seal(t.tokens.accessToken, vaultContext(row.identity_id, 'access')),
    refreshToken: t.tokens.refreshToken && t.keepRefreshToken ? deps.vault.seal(t.tokens.refreshToken, vaultContext(row.identity_id, 'refresh')) : null,
    expiresAt: t.tokens.expiresAt ?? null,
    scope: t.tokens.scope ?? null,
    now: deps.clock.now(),
  });
}
