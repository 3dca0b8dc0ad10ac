import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint, type EndpointContext } from '../../http/endpoint';
import type { Deps } from '../../deps';
import { timed } from '../../observability/metrics';
import { idToken } from './id-token';
import { password } from './password';
import { pkce } from './pkce';
import { refreshToken } from './refresh';

/** A grant reads the raw body with its own schema and returns the token response. */
export type Grant = (ctx: EndpointContext<'none', undefined, undefined, undefined, false>, deps: Deps) => Promise<unknown>;

/** One module per grant, as node-oidc-provider does. */
const GRANTS: Record<string, Grant> = {
  password,
  refresh_token: refreshToken,
  pkce,
  id_token: idToken,
};

/** POST /token?grant_type=… */
export const token = endpoint({ auth: 'none' }, (ctx, deps) => {
  const grantType = typeof ctx.query.grant_type === 'string' ? ctx.query.grant_type : '';
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
  if (!grant) {
    deps.metrics.grant('unsupported', 'failure');
    throw badRequest(ErrorCodes.invalidCredentials, 'unsupported_grant_type');
  }
  if (!deps.metrics.enabled) return grant(ctx, deps);
  return timed(() => grant(ctx, deps), (outcome) => deps.metrics.grant(grantType, outcome));
});
