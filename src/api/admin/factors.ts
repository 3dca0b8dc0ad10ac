import { z } from 'zod';
import { endpoint } from '../../http/endpoint';
import { optString, uuidParam } from '../../http/fields';
import { adminDeleteFactor, adminListFactors, adminUpdateFactor } from '../../services/admin/factors';
import { factorJson } from '../shapes';

const UserPath = z.object({ user_id: uuidParam('user_id') });
const FactorPath = z.object({ user_id: uuidParam('user_id'), factor_id: uuidParam('factor_id') });

/** GET /admin/users/{user_id}/factors → [Factor] (auth-js wraps it as {factors}). */
export const listFactors = endpoint({ auth: 'admin', params: UserPath }, async ({ params }, deps) => {
  const factors = await adminListFactors(deps, params.user_id);
  return factors.map(factorJson);
});

const UpdateFactorBody = z.object({ friendly_name: optString(), phone: optString() });

/** PUT /admin/users/{user_id}/factors/{factor_id} {friendly_name, phone} → Factor */
export const updateFactor = endpoint({ auth: 'admin', params: FactorPath, body: UpdateFactorBody }, async ({ params, body, meta, admin }, deps) => {
  const factor = await adminUpdateFactor(deps, meta, admin, params.user_id, params.factor_id, { friendlyName: body.friendly_name, phone: body.phone });
  return factorJson(factor);
});

/** DELETE /admin/users/{user_id}/factors/{factor_id} → the deleted Factor */
export const deleteFactor = endpoint({ auth: 'admin', params: FactorPath }, async ({ params, meta, admin }, deps) => {
  const factor = await adminDeleteFactor(deps, meta, admin, params.user_id, params.factor_id);
  return factorJson(factor);
});
