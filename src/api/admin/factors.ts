import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { optString, parseBody } from '../../http/parse';
import { adminOf } from '../../http/middleware/require-admin';
import { requestMeta } from '../../http/request-meta';
import { adminDeleteFactor, adminListFactors, adminUpdateFactor } from '../../services/admin/factors';
import { factorJson } from '../shapes';
import { uuidParam } from './params';

/** GET /admin/users/{user_id}/factors → [Factor] (auth-js wraps it as {factors}). */
export const listFactors = (deps: Deps): RequestHandler => async (req, res) => {
  const factors = await adminListFactors(deps, uuidParam(req, 'user_id'));
  res.json(factors.map(factorJson));
};

const UpdateFactorBody = z.object({ friendly_name: optString(), phone: optString() });

/** PUT /admin/users/{user_id}/factors/{factor_id} {friendly_name, phone} → Factor */
export const updateFactor = (deps: Deps): RequestHandler => async (req, res) => {
  const userId = uuidParam(req, 'user_id');
  const factorId = uuidParam(req, 'factor_id');
  const b = parseBody(req, UpdateFactorBody);
  const factor = await adminUpdateFactor(deps, requestMeta(req, deps.config), adminOf(res), userId, factorId, { friendlyName: b.friendly_name, phone: b.phone });
  res.json(factorJson(factor));
};

/** DELETE /admin/users/{user_id}/factors/{factor_id} → the deleted Factor */
export const deleteFactor = (deps: Deps): RequestHandler => async (req, res) => {
  const userId = uuidParam(req, 'user_id');
  const factorId = uuidParam(req, 'factor_id');
  const factor = await adminDeleteFactor(deps, requestMeta(req, deps.config), adminOf(res), userId, factorId);
  res.json(factorJson(factor));
};
