import { isStorableText } from '../../domain/text';
import { isUuid } from '../../domain/uuid';
import { notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { freshProviderToken } from '../../services/provider-token-refresh';

/**
 * GET /admin/users/{id}/provider-tokens/{provider} → a fresh provider access token for backends:
 * {provider, access_token, token_type, expires_at (unix seconds or null), expires_in?, scope?, refreshed}.
 * A malformed id or provider name cannot have a token: 404, as for one that has none.
 */
export const getProviderToken = endpoint({ auth: 'admin' }, async ({ params, meta }, deps) => {
  const userId = params.id ?? '';
  const provider = params.provider ?? '';
  if (!isUuid(userId)) throw notFound(ErrorCodes.userNotFound, 'User not found');
  if (provider === '' || provider.length > 100 || !isStorableText(provider)) throw notFound(ErrorCodes.providerTokenNotFound, 'No stored provider token for this user and provider');
  const t = await freshProviderToken(deps, meta, userId, provider);
  const expiresAt = t.expiresAt ? Math.floor(t.expiresAt.getTime() / 1000) : null;
  return {
    provider: t.provider,
    access_token: t.accessToken,
    token_type: t.tokenType,
    expires_at: expiresAt,
    ...(expiresAt !== null ? { expires_in: Math.max(0, expiresAt - Math.floor(deps.clock.now().getTime() / 1000)) } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
    refreshed: t.refreshed,
  };
});
