import type { Deps } from '../../deps';
import { oauthError } from '../../domain/oauth-server';

/**
 * RFC 8707 resource indicators: an absolute URI without a fragment, one of GOTRUE_OAUTH_SERVER_RESOURCES; anything
 * else is invalid_target. Undefined/empty: no resource (the token's aud is the server's default).
 */
export function checkResource(deps: Pick<Deps, 'config'>, resource: string | undefined): string | null {
  if (resource === undefined || resource === '') return null;
  let u: URL;
  try {
    u = new URL(resource);
  } catch {
    throw invalidTarget('resource must be an absolute URI');
  }
  if (u.hash !== '' || resource.includes('#')) throw invalidTarget('resource must not include a fragment component');
  if (!deps.config.oauthServer.resources.includes(resource)) throw invalidTarget('resource is not a resource this server issues tokens for');
  return resource;
}

const invalidTarget = (message: string) => oauthError(400, 'invalid_target', message);
