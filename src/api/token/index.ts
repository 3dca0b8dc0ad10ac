import type { Request, RequestHandler, Response } from 'express';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { idToken } from './id-token';
import { password } from './password';
import { pkce } from './pkce';
import { refreshToken } from './refresh';

type Grant = (deps: Deps, req: Request, res: Response) => Promise<void>;

/** One module per grant, as node-oidc-provider does. */
const GRANTS: Record<string, Grant> = {
  password,
  refresh_token: refreshToken,
  pkce,
  id_token: idToken,
};

/** POST /token?grant_type=… */
export const token = (deps: Deps): RequestHandler => async (req, res) => {
  const grantType = typeof req.query.grant_type === 'string' ? req.query.grant_type : '';
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
  if (!grant) throw badRequest(ErrorCodes.invalidCredentials, 'unsupported_grant_type');
  await grant(deps, req, res);
};
