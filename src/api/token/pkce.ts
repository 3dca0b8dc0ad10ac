import { z } from 'zod';
import { safeString } from '../../http/fields';
import { parseBody } from '../../http/parse';
import { pkceGrant } from '../../services/pkce-grant';
import { tokenResponseJson } from '../shapes';
import type { Grant } from './index';

const NON_EMPTY = 'invalid request: both auth code and code verifier should be non-empty';
const PkceBody = z.object({ auth_code: safeString(256).min(1, NON_EMPTY), code_verifier: safeString(256).min(1, NON_EMPTY) });

/** POST /token?grant_type=pkce {auth_code, code_verifier} */
export const pkce: Grant = async ({ body, meta }, deps) => {
  const b = parseBody(body, PkceBody);
  const r = await pkceGrant(deps, meta, { authCode: b.auth_code, codeVerifier: b.code_verifier });
  return {
    ...tokenResponseJson(r.tokens, r.user),
    ...(r.providerToken ? { provider_token: r.providerToken } : {}),
    ...(r.providerRefreshToken ? { provider_refresh_token: r.providerRefreshToken } : {}),
  };
};
