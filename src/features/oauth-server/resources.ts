import type { Deps } from '../../deps';
import { oauthError } from '../../domain/oauth-server';
import { definesScope, OPENID_SCOPES, resolveResource, resourcesDefiningScopes, type ResolvedResource } from '../../domain/oauth-resources';

/**
 * RFC 8707 resource indicators with their scopes (issue 15, item 4), for /oauth/authorize and client_credentials:
 * - a resource must be an absolute URI without a fragment that names a stored resource or one of
 *   GOTRUE_OAUTH_SERVER_RESOURCES, else invalid_target;
 * - every scope must be one of `base` (the OpenID scopes for a user's grant) or one of the resource's own, else
 *   invalid_scope — a resource's scope asked for without `resource` too (the client is told to send it).
 * Undefined/empty resource: none (the token is a first-party one, `aud` the server's default).
 */
export async function checkResource(
  deps: Pick<Deps, 'config' | 'db'>,
  resource: string | undefined,
  scopes: string[],
  base: readonly string[] = OPENID_SCOPES,
): Promise<ResolvedResource | null> {
  const foreign = scopes.filter((s) => !base.includes(s));
  if (resource === undefined || resource === '') {
    if (foreign.length === 0) return null;
    const owners = await resourcesDefiningScopes(deps.db, foreign.slice(0, 16));
    if (owners.length > 0) throw invalidScope(`scope ${foreign.find((s) => owners.some((o) => definesScope(o, s)))!.slice(0, 64)} is a resource's: send its resource parameter`);
    throw invalidScope(`unsupported scope: ${foreign[0]!.slice(0, 64)}`);
  }
  let u: URL;
  try {
    u = new URL(resource);
  } catch {
    throw invalidTarget('resource must be an absolute URI');
  }
  if (u.hash !== '' || resource.includes('#')) throw invalidTarget('resource must not include a fragment component');
  const found = await resolveResource(deps.db, deps.config, resource);
  if (!found) throw invalidTarget('resource is not a resource this server issues tokens for');
  const unknown = foreign.find((s) => !definesScope(found, s));
  if (unknown) throw invalidScope(`unsupported scope for this resource: ${unknown.slice(0, 64)}`);
  return found;
}

const invalidTarget = (message: string) => oauthError(400, 'invalid_target', message);
const invalidScope = (message: string) => oauthError(400, 'invalid_scope', message);
