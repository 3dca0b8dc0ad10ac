import { z } from 'zod';
import { parseCodeChallengeMethod } from '../../crypto/pkce';
import { consentClient, findClient, getClient, redirectUriAllowed } from '../../domain/oauth-clients';
import { isMetadataDocumentUrl, resolveMetadataClient } from '../../domain/client-metadata';
import type { JwtClaims } from '../../crypto/jwt';
import { answerAuthorization, type SignIn, consentPageUrl, createAuthorization, errorRedirect, oauthError, openAuthorization, parseScopes } from '../../domain/oauth-server';
import { ApiError, badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import type { Deps } from '../../deps';
import { isRedirectAllowed } from '../../domain/redirect-url';
import { endpoint } from '../../http/endpoint';
import { queryString } from '../../http/fields';
import { checkResource } from './resources';
import { consentScopes } from '../../domain/oauth-resources';

/** The authorization endpoint and the consent page's two calls (GoTrue's routes, auth-js' oauth.*). */

const AuthorizeQuery = z.object({
  client_id: queryString(2048),
  redirect_uri: queryString(2048),
  response_type: queryString(64),
  scope: queryString(4096),
  state: queryString(4096),
  resource: queryString(2048),
  code_challenge: queryString(256),
  code_challenge_method: queryString(16),
  nonce: queryString(255),
  prompt: queryString(64),
  max_age: queryString(16),
});
type AuthorizeParams = z.output<typeof AuthorizeQuery>;

/** Thrown for a problem the client must hear about on its redirect URI (RFC 6749 §4.1.2.1). */
class RedirectableError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

/**
 * GET /oauth/authorize: the client and redirect URI are checked first, and problems with them are answered here
 * (400, never redirected: the URI is not trusted yet). Everything else is answered on the redirect URI, with
 * `state` and `iss`. A valid request is stored and the browser goes to the consent page:
 * SITE_URL + AUTHORIZATION_PATH?authorization_id=…, or with none set and GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED,
 * this server's own (API_EXTERNAL_URL/oauth/pages/consent?authorization_id=…).
 */
export const oauthAuthorize = endpoint({ auth: 'none', query: AuthorizeQuery }, async ({ query: q, res }, deps) => {
  if (!q.client_id) throw oauthError(400, 'invalid_request', 'client_id is required');
  if (!q.redirect_uri) throw oauthError(400, 'invalid_request', 'redirect_uri is required');
  // Issue 15 (MCP): an https client_id with a path is a Client ID Metadata Document, fetched (or its cached row used).
  const client = isMetadataDocumentUrl(deps, q.client_id) ? await resolveMetadataClient(deps, q.client_id) : await findClient(deps, q.client_id);
  if (!client) throw oauthError(400, 'invalid_request', 'invalid client_id', ErrorCodes.oauthClientNotFound);
  if (!redirectUriAllowed(client, q.redirect_uri)) throw oauthError(400, 'invalid_request', 'invalid redirect_uri');

  let location: string;
  try {
    const checked = checkRest(deps.config.oauthServer, client.client_type, q);
    let resource: string | null;
    try {
      resource = (await checkResource(deps, q.resource || undefined, checked.scopes))?.resource ?? null;
    } catch (err) {
      // invalid_target or invalid_scope (issue 15, item 4), answered on the redirect URI like the other checks.
      if (err instanceof ApiError && err.oauth) throw new RedirectableError(err.oauth.error, err.message);
      throw err;
    }
    const { authorizationPath, hostedPagesEnabled } = deps.config.oauthServer;
    if (!authorizationPath && !hostedPagesEnabled) throw new RedirectableError('server_error', 'oauth authorization path not configured');
    const authorizationId = await createAuthorization(deps, {
      clientId: client.id,
      redirectUri: q.redirect_uri,
      scope: checked.scopes.join(' '),
      state: q.state || null,
      resource,
      codeChallenge: q.code_challenge || null,
      codeChallengeMethod: checked.method,
      nonce: q.nonce || null,
      prompt: q.prompt || null,
      // OIDC Registration §2: a client's default_max_age applies when the request sends no max_age (issue 15).
      maxAge: q.max_age ? Number(q.max_age) : client.default_max_age,
    });
    location = consentPageUrl(deps.config, authorizationId)!;
  } catch (err) {
    if (!(err instanceof RedirectableError)) throw err;
    location = errorRedirect(deps.config, q.redirect_uri, err.error, err.message, q.state);
  }
  res.redirect(302, location);
  return undefined;
});

/** The checks answered on the redirect URI: response type, a scope at all, PKCE, prompt, max_age. */
function checkRest(cfg: { defaultScope: string; allowPlainPkce: boolean }, clientType: string, q: AuthorizeParams) {
  if ((q.response_type || 'code') !== 'code') throw new RedirectableError('unsupported_response_type', 'only response_type=code is supported');
  const scopes = parseScopes(q.scope || cfg.defaultScope);
  if (scopes.length === 0) throw new RedirectableError('invalid_scope', 'scope parameter cannot be empty');
  // Which scopes are known is checkResource's: the OpenID ones and the requested resource's own.
  if (q.prompt && q.prompt.split(' ').some((p) => !PROMPTS.has(p))) throw new RedirectableError('invalid_request', 'prompt must be none, login, consent or select_account');
  // The consent page is the app's: this server cannot tell, without showing it, whether the user is signed in.
  if (q.prompt.split(' ').includes('none')) throw new RedirectableError('login_required', 'prompt=none is not supported: the user must visit the consent page');
  if (q.max_age && !/^\d{1,9}$/.test(q.max_age)) throw new RedirectableError('invalid_request', 'max_age must be a whole number of seconds');
  let method: 's256' | 'plain' | null = null;
  if (q.code_challenge) {
    const m = q.code_challenge_method ? parseCodeChallengeMethod(q.code_challenge_method) : 'plain';
    if (!m) throw new RedirectableError('invalid_request', "code_challenge_method must be 'S256'");
    if (m === 'plain' && !cfg.allowPlainPkce) throw new RedirectableError('invalid_request', "code_challenge_method must be 'S256' (plain is not allowed)");
    if (!PKCE_CHALLENGE.test(q.code_challenge)) throw new RedirectableError('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]');
    method = m;
  } else if (q.code_challenge_method) {
    throw new RedirectableError('invalid_request', 'code_challenge_method without code_challenge');
  } else if (clientType === 'public') {
    throw new RedirectableError('invalid_request', 'PKCE is required for public clients: send code_challenge and code_challenge_method=S256');
  }
  return { scopes, method };
}

/**
 * GoTrue's validateRequestOrigin: a browser calling the consent endpoints must be on the site URL or the allow
 * list, so another site's page cannot drive a user's consent with a token it obtained.
 */
function checkOrigin(deps: Pick<Deps, 'config'>, origin: string | undefined): void {
  if (origin && !isRedirectAllowed(deps.config, origin)) throw badRequest(ErrorCodes.validationFailed, 'unauthorized request origin');
}

/** How the caller's session had signed in, from its access token: the newest AMR entry's time (else iat), the methods, the AAL. */
function signInOf(claims: JwtClaims): SignIn {
  const amr = Array.isArray(claims['amr']) ? (claims['amr'] as unknown[]) : [];
  const entries = amr.filter((e): e is { method: string; timestamp: number } => typeof e === 'object' && e !== null && typeof (e as { method?: unknown }).method === 'string');
  const newest = Math.max(0, ...entries.map((e) => (typeof e.timestamp === 'number' ? e.timestamp : 0)));
  const iat = typeof claims['iat'] === 'number' ? claims['iat'] : 0;
  return { time: new Date((newest || iat) * 1000), methods: entries.map((e) => e.method.slice(0, 64)).slice(0, 8), aal: typeof claims['aal'] === 'string' ? claims['aal'].slice(0, 8) : 'aal1' };
}

const AuthorizationPath = z.object({ authorization_id: z.string().min(1).max(128) });

/**
 * GET /oauth/authorizations/{authorization_id} (signed in as the user): what the consent page shows, or
 * `{redirect_url}` at once when the user's grant already covers the scopes.
 */
export const getAuthorization = endpoint({ auth: 'user', params: AuthorizationPath }, async ({ params, user, req }, deps) => {
  checkOrigin(deps, req.header('origin'));
  const view = await openAuthorization(deps, params.authorization_id, user.user.id, signInOf(user.claims));
  if (view.kind === 'redirect') return { redirect_url: view.redirectUrl };
  const a = view.authorization;
  const client = await getClient(deps, a.client_id);
  return {
    authorization_id: a.authorization_id,
    redirect_uri: a.redirect_uri,
    client: consentClient(client),
    user: { id: user.user.id, email: user.user.email ?? '' },
    scope: a.scope,
    // Issue 15, item 4: each scope with what it allows, and the resource server the token is for.
    ...(await consentScopes(deps, parseScopes(a.scope), a.resource)),
  };
});

const ConsentBody = z.object({ action: z.string().max(16).nullish() });

/** POST /oauth/authorizations/{authorization_id}/consent {action: approve|deny} → {redirect_url} */
export const consentAuthorization = endpoint({ auth: 'user', params: AuthorizationPath, body: ConsentBody }, async ({ params, body, user, req }, deps) => {
  checkOrigin(deps, req.header('origin'));
  if (body.action !== 'approve' && body.action !== 'deny') throw badRequest(ErrorCodes.validationFailed, "action must be 'approve' or 'deny'");
  return { redirect_url: await answerAuthorization(deps, params.authorization_id, user.user.id, body.action === 'approve', signInOf(user.claims)) };
});
