import type { ProviderTokenRow } from '../db/schema';
import type { Deps } from '../deps';
import { ProviderError } from '../external/types';
import { ApiError, notFound, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import { resolveProvider } from './external-providers';
import { providerApiError } from './provider-errors';
import {
  findProviderTokens,
  lockProviderTokens,
  markProviderTokensRevoked,
  openStoredAccessToken,
  openStoredRefreshToken,
  storeRefreshedTokens,
} from '../domain/provider-tokens';
import type { RequestMeta } from '../domain/request-meta';

/** A token this close to expiry is refreshed rather than handed out. */
const EXPIRY_MARGIN_MS = 60_000;

export interface FreshProviderToken {
  provider: string;
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  scope: string | null;
  /** Whether this call (or the concurrent call it joined) refreshed the token. */
  refreshed: boolean;
}

/** In-process single flight: concurrent callers for one row share one refresh (one per Deps, i.e. per server). */
const inflight = new WeakMap<Deps, Map<string, Promise<FreshProviderToken>>>();

const isFresh = (row: ProviderTokenRow, now: Date) => !row.expires_at || row.expires_at.getTime() - EXPIRY_MARGIN_MS > now.getTime();

function answer(deps: Deps, row: ProviderTokenRow, refreshed: boolean): FreshProviderToken {
  return {
    provider: row.provider,
    accessToken: openStoredAccessToken(deps, row),
    tokenType: row.token_type ?? 'bearer',
    expiresAt: row.expires_at,
    scope: row.scope,
    refreshed,
  };
}

const revoked = () => unprocessable(ErrorCodes.providerGrantRevoked, 'The provider revoked this grant: the user must sign in with the provider again');

/**
 * A usable provider access token for a user, for backends calling the provider on the user's behalf: the stored
 * one while it is fresh, else one refreshed with the stored refresh token. Concurrent callers in this process
 * share one refresh; across processes the refresh runs under the row's lock, and a process that waited finds the
 * row already refreshed. A provider answering invalid_grant marks the grant revoked (422 provider_grant_revoked).
 */
export async function freshProviderToken(deps: Deps, meta: RequestMeta, userId: string, providerName: string): Promise<FreshProviderToken> {
  if (!deps.vault.enabled) throw notFound(ErrorCodes.featureDisabled, 'The provider token vault is not configured (GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS)');
  const row = await findProviderTokens(deps.db, userId, providerName.toLowerCase());
  if (!row) throw notFound(ErrorCodes.providerTokenNotFound, 'No stored provider token for this user and provider');
  if (row.revoked_at || !row.access_token) throw revoked();
  if (isFresh(row, deps.clock.now())) return answer(deps, row, false);

  let flights = inflight.get(deps);
  if (!flights) inflight.set(deps, (flights = new Map()));
  const running = flights.get(row.id);
  if (running) return running;
  const flight = refreshRow(deps, meta, row).finally(() => flights.delete(row.id));
  flights.set(row.id, flight);
  return flight;
}

async function refreshRow(deps: Deps, meta: RequestMeta, row: ProviderTokenRow): Promise<FreshProviderToken> {
  const provider = await resolveProvider(deps, row.provider);
  const client = deps.external.protocol(provider);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const locked = await lockProviderTokens(trx, row.id);
    if (!locked) throw notFound(ErrorCodes.providerTokenNotFound, 'No stored provider token for this user and provider');
    if (locked.revoked_at || !locked.access_token) return { revoked: true as const };
    // Another process refreshed it while this one waited for the lock.
    if (isFresh(locked, deps.clock.now())) return { row: locked, refreshed: true };
    const refreshToken = openStoredRefreshToken(deps, locked);
    if (!refreshToken) throw unprocessable(ErrorCodes.providerTokenExpired, 'The provider token expired and there is no refresh token to renew it');
    const user = { id: locked.user_id, email: null, phone: null, raw_user_meta_data: null };
    try {
      const tokens = await client.refresh(refreshToken);
      await storeRefreshedTokens(trx, deps, locked, { tokens, keepRefreshToken: provider.keepsRefreshTokens });
      await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'provider_token_refreshed', { provider: locked.provider })]);
      return { row: (await lockProviderTokens(trx, locked.id))!, refreshed: true };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'rejected') {
        // invalid_grant (GitHub: bad_refresh_token): the user or provider revoked access. Kept as committed fact.
        await markProviderTokensRevoked(trx, locked.id, deps.clock.now());
        await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'provider_token_revoked', { provider: locked.provider, error: err.oauthError })]);
        return { revoked: true as const };
      }
      throw err instanceof ApiError ? err : providerApiError(err, provider.name);
    }
  });
  if ('revoked' in outcome) throw revoked();
  return answer(deps, outcome.row, outcome.refreshed);
}
