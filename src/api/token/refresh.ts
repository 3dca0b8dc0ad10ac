import { z } from 'zod';
import { safeString } from '../../http/fields';
import { parseBody } from '../../http/parse';
import { refreshGrant } from '../../services/refresh-grant';
import { tokenResponseJson } from '../shapes';
import type { Grant } from './index';

const RefreshBody = z.object({ refresh_token: safeString(512).min(1) });

/** POST /token?grant_type=refresh_token */
export const refreshToken: Grant = async ({ body, meta }, deps) => {
  const result = await refreshGrant(deps, meta, parseBody(body, RefreshBody).refresh_token);
  return tokenResponseJson(result.tokens, result.user);
};
