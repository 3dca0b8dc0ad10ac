import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { optString, parseBody } from '../../http/parse';
import { requestMeta } from '../../http/request-meta';
import { passwordGrant } from '../../services/password-grant';
import { tokenResponseJson } from '../shapes';

const PasswordBody = z.object({ email: optString(), phone: optString(), password: z.string().max(4096) });

/** POST /token?grant_type=password */
export async function password(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parseBody(req, PasswordBody);
  const result = await passwordGrant(deps, requestMeta(req, deps.config), body);
  res.json(tokenResponseJson(result.tokens, result.user, result.weakPassword));
}
