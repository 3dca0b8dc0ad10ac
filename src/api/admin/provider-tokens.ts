import type { RequestHandler } from 'express';
import type { Deps } from '../../deps';
import { notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { requestMeta } from '../../http/request-meta';
import { isUuid } from '../../domain/identifiers';
import { freshProviderToken } from '../../services/provider-token-refresh';

/**
 * GET /admin/users/{id}/provider-tokens/{provider} → a fresh provider access token for backends:
 * {provider, access_token, token_type, expires_at (unix seconds or null), expires_in?, scope?, refreshed}.
 */
export const getProviderToken = (deps: Deps): RequestHandler => async (req, res) => {
  const userId = String(req.params.id ?? '');
  const provider = String(req.params.provider ?? '');
  if (!isUuid(userId)) throw notFound(ErrorCodes.userNotFound, 'User not found');
  if (provider === '' || provider.length > 100) throw notFound(ErrorCodes.providerTokenNotFound, 'No stored provider token for this user and provider');
  const t = await freshProviderToken(deps, requestMeta(req, deps.config), userId, provider);
  const expiresAt = t.expiresAt ? Math.floor(t.expiresAt.getTime() / 1000) : null;
  res.json({
    provider: t.provider,
    access_token: t.accessToken,
    token_type: t.tokenType,
    expires_at: expiresAt,
    ...(expiresAt !== null ? { expires_in: Math.max(0, expiresAt - Math.floor(deps.clock.now().getTime() / 1000)) } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
    refreshed: t.refreshed,
  });
};
