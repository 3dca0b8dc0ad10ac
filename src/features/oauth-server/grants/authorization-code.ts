import { oauthError } from '../../../domain/oauth-server';
import { exchangeCode } from '../code-grant';
import { oauthString } from '../params';
import type { OauthGrant } from './index';

/** grant_type=authorization_code {code, code_verifier?, redirect_uri?, resource?} */
export const authorizationCode: OauthGrant = async ({ body, client, meta }, deps) => {
  const code = oauthString(body, 'code', 512);
  if (!code) throw missing('code');
  return exchangeCode(deps, meta, client, {
    code,
    codeVerifier: oauthString(body, 'code_verifier', 256),
    redirectUri: oauthString(body, 'redirect_uri', 2048),
    resource: oauthString(body, 'resource', 2048),
  });
};

const missing = (name: string) => oauthError(400, 'invalid_request', `${name} is required`);
