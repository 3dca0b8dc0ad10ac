import type { Executor } from '../db/database';
import { upsertProviderTokens } from '../db/repositories/provider-tokens';
import type { Deps } from '../deps';
import type { ProviderTokenSet } from '../external/types';

/** Sealing contexts: a ciphertext only opens in the row and column it was written for. */
export const vaultContext = (identityId: string, kind: 'access' | 'refresh') => `provider_tokens:${identityId}:${kind}`;
export const flowTokenContext = (flowId: string, kind: 'access' | 'refresh') => `flow_state:${flowId}:${kind}`;

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
