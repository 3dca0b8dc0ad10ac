import { buildAuthorizeUrl, tokenRequest, type AuthorizeParams } from './oauth2-client';
import type { OidcClient } from './oidc-client';
import { ProviderError, type Fetch, type ProtocolSettings, type ProviderTokenSet } from './types';

/** The OAuth legs of one provider, whatever its protocol. */
export interface ProtocolClient {
  authorizationUrl(p: AuthorizeParams): Promise<URL>;
  /** The callback's code for tokens; OIDC also checks state, nonce and the id_token (returned as claims). */
  exchangeCode(p: { params: URLSearchParams; state: string; codeVerifier?: string; nonce?: string }): Promise<{ tokens: ProviderTokenSet; claims: Record<string, unknown> | undefined }>;
  refresh(refreshToken: string): Promise<ProviderTokenSet>;
  userinfo(accessToken: string, sub: string | undefined): Promise<Record<string, unknown> | undefined>;
  /** Issuer and JWKS of an OIDC provider (from discovery), and the discovered document itself. */
  oidcMetadata(): Promise<{ issuer: string; jwksUri: string | undefined; document: Record<string, unknown> }>;
}

class OAuth2Client implements ProtocolClient {
  constructor(
    private readonly s: ProtocolSettings,
    private readonly fetchFn: Fetch,
    private readonly now: () => Date,
  ) {}
  async authorizationUrl(p: AuthorizeParams) {
    if (!this.s.authorizationUrl) throw new ProviderError('invalid_response', 'provider has no authorization endpoint');
    return buildAuthorizeUrl(this.s.authorizationUrl, this.s, p);
  }
  async exchangeCode(p: { params: URLSearchParams; codeVerifier?: string }) {
    const code = p.params.get('code');
    if (!code) throw new ProviderError('rejected', 'the callback carries no code', { oauthError: 'invalid_request' });
    const tokens = await tokenRequest(
      this.fetchFn,
      this.s,
      { grant_type: 'authorization_code', code, redirect_uri: this.s.redirectUri, ...(p.codeVerifier ? { code_verifier: p.codeVerifier } : {}) },
      this.now(),
    );
    return { tokens, claims: undefined };
  }
  refresh(refreshToken: string) {
    return tokenRequest(this.fetchFn, this.s, { grant_type: 'refresh_token', refresh_token: refreshToken }, this.now());
  }
  async userinfo() {
    return undefined;
  }
  async oidcMetadata(): Promise<{ issuer: string; jwksUri: string | undefined; document: Record<string, unknown> }> {
    throw new ProviderError('invalid_response', 'not an OpenID provider');
  }
}

/** OpenID Connect through openid-client, which is loaded at the first use of an OIDC provider, not at start-up. */
class OidcProtocolClient implements ProtocolClient {
  private client: Promise<OidcClient> | undefined;
  constructor(
    private readonly s: ProtocolSettings,
    private readonly fetchFn: Fetch,
    private readonly now: () => Date,
  ) {}
  private oidc(): Promise<OidcClient> {
    this.client ??= import('./oidc-client').then((m) => new m.OidcClient(this.s, this.fetchFn, this.now));
    return this.client;
  }
  async authorizationUrl(p: AuthorizeParams) {
    return (await this.oidc()).authorizationUrl(p);
  }
  async exchangeCode(p: { params: URLSearchParams; state: string; codeVerifier?: string; nonce?: string }) {
    return (await this.oidc()).exchangeCode(p);
  }
  async refresh(refreshToken: string) {
    return (await this.oidc()).refresh(refreshToken);
  }
  async userinfo(accessToken: string, sub: string | undefined) {
    return (await this.oidc()).userinfo(accessToken, sub);
  }
  async oidcMetadata() {
    const m = (await (await this.oidc()).configuration()).serverMetadata();
    return { issuer: m.issuer, jwksUri: m.jwks_uri, document: { ...m } };
  }
}

/**
 * Protocol clients, one per distinct provider settings (so an admin update takes effect at once and a discovery
 * document is fetched once per provider, not per request).
 */
export class ProtocolClients {
  private readonly cache = new Map<string, ProtocolClient>();
  constructor(
    private readonly fetchFn: Fetch,
    private readonly now: () => Date,
  ) {}

  get(s: ProtocolSettings): ProtocolClient {
    const key = JSON.stringify(s);
    let c = this.cache.get(key);
    if (!c) {
      c = s.protocol === 'oidc' ? new OidcProtocolClient(s, this.fetchFn, this.now) : new OAuth2Client(s, this.fetchFn, this.now);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(key, c);
    }
    return c;
  }
}
