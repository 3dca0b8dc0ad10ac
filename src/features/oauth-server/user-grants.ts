import type { Deps } from '../../deps';
import { z } from 'zod';
import { isUuid } from '../../domain/identifiers';
import { listUserGrants, parseScopes, revokeGrant } from '../../domain/oauth-server';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { queryString, uuidParam } from '../../http/fields';

/** What a user granted which OAuth clients: GoTrue's /user/oauth/grants, and the admin's view of a user's. */

const GrantQuery = z.object({ client_id: queryString(64) });
const UserPath = z.object({ user_id: uuidParam('user_id') });

function clientIdOf(q: { client_id: string }): string {
  if (!q.client_id) throw badRequest(ErrorCodes.validationFailed, 'client_id query parameter is required');
  if (!isUuid(q.client_id)) throw badRequest(ErrorCodes.validationFailed, 'invalid client_id format');
  return q.client_id.toLowerCase();
}

async function grantsJson(deps: Pick<Deps, 'db'>, userId: string) {
  const rows = await listUserGrants(deps.db, userId);
  return rows.map((g) => ({
    client: { id: g.client_id, name: g.client_name ?? '', uri: g.client_uri ?? '', logo_uri: g.logo_uri ?? '' },
    scopes: parseScopes(g.scopes),
    granted_at: new Date(g.granted_at).toISOString(),
  }));
}

/** GET /user/oauth/grants → [{client, scopes, granted_at}] */
export const listMyGrants = endpoint({ auth: 'user' }, async ({ user }, deps) => grantsJson(deps, user.user.id));

/** DELETE /user/oauth/grants?client_id= → 204; that client's sessions of the user end */
export const revokeMyGrant = endpoint({ auth: 'user', query: GrantQuery }, async ({ user, query, res }, deps) => {
  await revokeGrant(deps, user.user.id, clientIdOf(query));
  res.status(204).end();
  return undefined;
});

/** GET /admin/users/{user_id}/oauth/grants */
export const adminListGrants = endpoint({ auth: 'admin', params: UserPath }, async ({ params }, deps) => grantsJson(deps, params.user_id));

/** DELETE /admin/users/{user_id}/oauth/grants?client_id= → 204 */
export const adminRevokeGrant = endpoint({ auth: 'admin', params: UserPath, query: GrantQuery }, async ({ params, query, res }, deps) => {
  await revokeGrant(deps, params.user_id, clientIdOf(query));
  res.status(204).end();
  return undefined;
});
