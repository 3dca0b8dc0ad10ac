import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { parseBody } from '../../http/parse';
import { requestMeta } from '../../http/request-meta';
import { refreshGrant } from '../../services/refresh-grant';
import { tokenResponseJson } from '../shapes';

const RefreshBody = z.object({ refresh_token: z.string().min(1).max(512) });

/** POST /token?grant_type=refresh_token */
export async function refreshToken(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parseBody(req, RefreshBody);
  const result = await refreshGrant(deps, requestMeta(req, deps.config), body.refresh_token);
  res.json(tokenResponseJson(result.tokens, result.user));
}
