import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { parseBody } from '../../http/parse';
import { requestMeta } from '../../http/request-meta';
import { pkceGrant } from '../../services/pkce-grant';
import { tokenResponseJson } from '../shapes';

const PkceBody = z.object({
  auth_code: z.string().min(1, 'invalid request: both auth code and code verifier should be non-empty').max(256),
  code_verifier: z.string().min(1, 'invalid request: both auth code and code verifier should be non-empty').max(256),
});

/** POST /token?grant_type=pkce {auth_code, code_verifier} */
export async function pkce(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parseBody(req, PkceBody);
  const r = await pkceGrant(deps, requestMeta(req, deps.config), { authCode: body.auth_code, codeVerifier: body.code_verifier });
  res.json({
    ...tokenResponseJson(r.tokens, r.user),
    ...(r.providerToken ? { provider_token: r.providerToken } : {}),
    ...(r.providerRefreshToken ? { provider_refresh_token: r.providerRefreshToken } : {}),
  });
}
