import * as client from 'openid-client';
import type { AuthorizeParams } from './oauth2-client';
import { tokenSetFrom } from './oauth2-client';
import { ProviderError, type Fetch, type ProtocolSettings, type ProviderTokenSet } from './types';

/** Discovery documents are fetched once and kept this long (a failed discovery is not kept). */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/** openid-client's errors, mapped to what went wrong from the caller's point of view. */
export function toProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof client.ResponseBodyError) {
    return err.status >= 500
      ? new ProviderError('unavailable', `provider answered ${err.status}`, { cause: err })
      : new ProviderError('rejected', `provider refused: ${err.error}`, { oauthError: err.error, cause: err });
  }
  if (err instanceof client.AuthorizationResponseError) {
    return new ProviderError('rejected', `provider refused: ${err.error}`, { oauthError: err.error, cause: err });
  }
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || (err instanceof TypeError && /fetch/i.test(err.message))) {
    return new ProviderError('unavailable', 'could not reach the provider', { cause: err });
  }
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && /status code/i.test(String((err as Error).message))) {
    return new ProviderError('unavailable', 'provider answered an unexpected status', { cause: err });
  }
  return new ProviderError('invalid_response', (err as Error)?.message ?? 'unusable provider response', { cause: err });
}

function clientAuth(s: ProtocolSettings): client.ClientAuth {
  if (s.clientAuth === 'post') return client.ClientSecretPost(s.clientSecret);
  if (s.clientAuth === 'basic') return client.ClientSecretBasic(s.clientSecret);
  const basic = client.ClientSecretBasic(s.clientSecret);
  const post = client.ClientSecretPost(s.clientSecret);
  return (as, c, body, headers) => {
    basic(as, c, body, headers);
    post(as, c, body, headers);
  };
}

/**
 * An OpenID Connect client on openid-client: discovery (cached), the authorization code grant with PKCE, state
 * and nonce checks, and the id_token's signature verified against the provider's JWKS (non-repudiation checks).
 */
export class OidcClient {
  private config: { value: Promise<client.Configuration>; at: number } | undefined;

  constructor(
    private readonly s: ProtocolSettings,
    private readonly fetchFn: Fetch,
    private readonly now: () => Date,
  ) {}

  /** The discovered (or configured) configuration; a failure is not cached, so the next request retries. */
  configuration(): Promise<client.Configuration> {
    const t = this.now().getTime();
    if (this.config && t - this.config.at < DISCOVERY_TTL_MS) return this.config.value;
    const value = this.load();
    this.config = { value, at: t };
    value.catch(() => {
      if (this.config?.value === value) this.config = undefined;
    });
    return value;
  }

  private async load(): Promise<client.Configuration> {
    const s = this.s;
    const where = s.discoveryUrl ?? s.issuer;
    const insecure = [where, s.tokenUrl, s.authorizationUrl].some((u) => u?.startsWith('http:'));
    const customFetch: client.CustomFetch = (url, options) => this.fetchFn(url, options as RequestInit);
    let config: client.Configuration;
    try {
      if (where) {
        config = await client.discovery(new URL(where), s.clientId, { client_secret: s.clientSecret }, clientAuth(s), {
          [client.customFetch]: customFetch,
          execute: insecure ? [client.allowInsecureRequests] : [],
        });
      } else {
        config = new client.Configuration(
          {
            issuer: s.issuer ?? new URL(s.authorizationUrl!).origin,
            authorization_endpoint: s.authorizationUrl,
            token_endpoint: s.tokenUrl,
            userinfo_endpoint: s.userinfoUrl,
            jwks_uri: s.jwksUri,
          },
          s.clientId,
          { client_secret: s.clientSecret },
          clientAuth(s),
        );
        config[client.customFetch] = customFetch;
         
        if (insecure) client.allowInsecureRequests(config);
      }
    } catch (err) {
      throw toProviderError(err);
    }
    if (config.serverMetadata().jwks_uri) client.enableNonRepudiationChecks(config);
    return config;
  }

  async authorizationUrl(p: AuthorizeParams): Promise<URL> {
    const config = await this.configuration();
    const scopes = p.scopes.includes('openid') ? p.scopes : ['openid', ...p.scopes];
    const params: Record<string, string> = {
      redirect_uri: this.s.redirectUri,
      scope: scopes.join(' '),
      state: p.state,
      ...(p.nonce ? { nonce: p.nonce } : {}),
      ...(p.codeChallenge ? { code_challenge: p.codeChallenge, code_challenge_method: 'S256' } : {}),
      ...this.s.authorizationParams,
      ...p.extra,
    };
    return client.buildAuthorizationUrl(config, params);
  }

  /** Exchanges the callback's code; checks state, nonce (when sent) and the id_token. */
  async exchangeCode(p: { params: URLSearchParams; state: string; codeVerifier?: string; nonce?: string }): Promise<{ tokens: ProviderTokenSet; claims: Record<string, unknown> | undefined }> {
    const config = await this.configuration();
    const current = new URL(this.s.redirectUri);
    for (const [k, v] of p.params) current.searchParams.append(k, v);
    try {
      const res = await client.authorizationCodeGrant(config, current, {
        expectedState: p.state,
        ...(p.nonce ? { expectedNonce: p.nonce } : {}),
        ...(p.codeVerifier ? { pkceCodeVerifier: p.codeVerifier } : {}),
        idTokenExpected: true,
      });
      const claims = res.claims();
      return { tokens: tokenSetFrom({ ...res }, this.now()), claims: claims ? { ...claims } : undefined };
    } catch (err) {
      throw toProviderError(err);
    }
  }

  async refresh(refreshToken: string): Promise<ProviderTokenSet> {
    const config = await this.configuration();
    try {
      const res = await client.refreshTokenGrant(config, refreshToken);
      return tokenSetFrom({ ...res }, this.now());
    } catch (err) {
      throw toProviderError(err);
    }
  }

  async userinfo(accessToken: string, sub: string | undefined): Promise<Record<string, unknown> | undefined> {
    const config = await this.configuration();
    if (!config.serverMetadata().userinfo_endpoint) return undefined;
    try {
      return { ...(await client.fetchUserInfo(config, accessToken, sub ?? client.skipSubjectCheck)) };
    } catch (err) {
      throw toProviderError(err);
    }
  }
}
