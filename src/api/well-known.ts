import type { RequestHandler } from 'express';
import type { Config } from '../config';
import type { Signer } from '../crypto/signer';
import type { Deps } from '../deps';

/** GoTrue lets caches keep both documents for ten minutes; a rotated-in key should be published that long first. */
const PUBLIC_TEN_MINUTES = 'public, max-age=600';

/** GET /.well-known/jwks.json: the public signing keys, `{keys: []}` when only the HS256 secret signs. */
export const wellKnownJwks = (deps: Deps): RequestHandler => (_req, res) => {
  res.setHeader('Cache-Control', PUBLIC_TEN_MINUTES);
  res.json(deps.signer.jwks());
};

/**
 * The OpenID Provider metadata this server can state today, with GoTrue's field names: the issuer (GOTRUE_JWT_ISSUER,
 * else API_EXTERNAL_URL), where the keys are, and the algorithms tokens are signed with (GoTrue lists a fixed
 * [RS256, HS256, ES256]; this lists the accepted ones, the signing key's first). The OAuth server adds its endpoints
 * and capabilities (authorization_endpoint, token_endpoint, userinfo_endpoint, response_types_supported, ...) by
 * spreading its own fields over this.
 */
export function openIdConfiguration(config: Pick<Config, 'api' | 'jwt'>, signer: Pick<Signer, 'algorithms'>): Record<string, unknown> {
  const base = config.api.externalUrl.replace(/\/+$/, '');
  return {
    issuer: config.jwt.issuer || base,
    jwks_uri: `${base}/.well-known/jwks.json`,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...signer.algorithms],
  };
}

/**
 * GET /.well-known/openid-configuration; `extra` is the OAuth server's half when it is on (issue 12), read at each
 * request (the registered resources' scopes change at run time) and spread over the base document. The same document
 * answers /.well-known/oauth-authorization-server (RFC 8414).
 */
export const wellKnownOpenId = (deps: Deps, extra?: () => Promise<Record<string, unknown>>): RequestHandler => {
  const document = openIdConfiguration(deps.config, deps.signer);
  return async (_req, res) => {
    const body = extra ? { ...document, ...(await extra()) } : document;
    res.setHeader('Cache-Control', PUBLIC_TEN_MINUTES);
    res.json(body);
  };
};
