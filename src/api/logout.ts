import { z } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { endpoint } from '../http/endpoint';
import { logout as logoutService } from '../services/logout';

const Scope = z.enum(['global', 'local', 'others']);

/** POST /logout?scope=global|local|others → 204 */
export const logout = endpoint({ auth: 'user' }, async ({ query, meta, user, res }, deps) => {
  const parsed = Scope.safeParse(query.scope === undefined || query.scope === '' ? 'global' : query.scope);
  if (!parsed.success) throw badRequest(ErrorCodes.validationFailed, 'Unsupported logout scope');
  await logoutService(deps, meta, user, parsed.data);
  res.status(204).end();
});
