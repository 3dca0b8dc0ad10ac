import type { BuiltinProviderConfig, BuiltinProviderName, CustomProviderConfig } from '../config/providers';
import { getJson } from './http';
import { IdTokenError, verifyIdToken } from './id-token';
import { customProfile, mapCustomClaims } from './custom-provider';
import { userDataFromClaims } from './providers/spec';
import { ProtocolClients, type ProtocolClient } from './protocol-client';
import { BUILTIN_SPECS } from './providers';
import { ProviderError, type ExternalProvider, type Fetch, type IdTokenSettings, type ProfileContext, type ProtocolSettings, type ProviderTokenSet } from './types';

/**
 * Builds ready-to-use providers from configuration (built-in specs or a generic provider's settings) and owns
 * the protocol clients, so discovery documents and JWKS are fetched once per provider.
 */
export class ExternalProviders {
  readonly clients: ProtocolClients;
  constructor(
    readonly fetchFn: Fetch,
    readonly now: () => Date,
  ) {
    this.clients = new ProtocolClients(fetchFn, now);
  }

  builtin(name: BuiltinProviderName, cfg: BuiltinProviderConfig): ExternalProvider {
    const spec = BUILTIN_SPECS[name];
    const ep = spec.endpoints(cfg.url);
    const settings: ProtocolSettings = {
      protocol: spec.protocol,
      clientId: cfg.clientIds[0] ?? '',
      clientSecret: cfg.secret,
      redirectUri: cfg.redirectUri,
      clientAuth: spec.clientAuth ?? 'post',
      pkce: spec.pkce ?? spec.protocol === 'oidc',
      issuer: ep.issuer,
      discoveryUrl: ep.discoveryUrl,
      authorizationUrl: ep.authorizationUrl,
      tokenUrl: ep.tokenUrl,
      userinfoUrl: ep.userinfoUrl,
      jwksUri: ep.jwksUri,
      scopes: spec.scopes,
      scopeSeparator: spec.scopeSeparator,
      authorizationParams: spec.authorizationParams ?? {},
    };
    const client = () => this.clients.get(settings);
    const spIdToken = spec.idToken;
    const idToken =
      spIdToken === undefined
        ? undefined
        : spIdToken === 'discovery'
          ? () => this.discoveredIdToken(client())
          : async (): Promise<IdTokenSettings> => ({ nonce: 'sha256', ...spIdToken(ep) });
    return {
      name,
      settings,
      keepsRefreshTokens: spec.refreshTokens ?? true,
      emailOptional: cfg.emailOptional,
      skipNonceCheck: cfg.skipNonceCheck,
      audiences: cfg.clientIds,
      idToken,
      userFromIdToken: (claims) => userDataFromClaims(name === 'azure' ? { ...claims, email_verified: claims.xms_edov === true || claims.xms_edov === 1 } : claims),
      userData: (ctx) => spec.profile(ctx, ep, cfg),
    };
  }

  custom(cfg: CustomProviderConfig, defaultRedirectUri: string): ExternalProvider {
    const settings: ProtocolSettings = {
      protocol: cfg.providerType,
      clientId: cfg.clientId,
      clientSecret: cfg.clientSecret,
      redirectUri: cfg.redirectUri ?? defaultRedirectUri,
      clientAuth: cfg.clientAuth,
      pkce: cfg.pkceEnabled,
      issuer: cfg.issuer,
      discoveryUrl: cfg.discoveryUrl,
      authorizationUrl: cfg.authorizationUrl,
      tokenUrl: cfg.tokenUrl,
      userinfoUrl: cfg.userinfoUrl,
      jwksUri: cfg.jwksUri,
      scopes: cfg.scopes,
      authorizationParams: cfg.authorizationParams,
    };
    return {
      name: cfg.identifier,
      settings,
      keepsRefreshTokens: cfg.issuesRefreshTokens,
      emailOptional: cfg.emailOptional,
      skipNonceCheck: cfg.skipNonceCheck,
      audiences: [cfg.clientId, ...cfg.acceptableClientIds],
      idToken: cfg.providerType === 'oidc' ? () => this.discoveredIdToken(this.clients.get(settings), cfg.jwksUri) : undefined,
      userFromIdToken: (claims) => mapCustomClaims(cfg, claims),
      userData: (ctx) => customProfile(cfg, ctx),
    };
  }

  protocol(p: ExternalProvider): ProtocolClient {
    return this.clients.get(p.settings);
  }

  /** What a provider's profile mapping may call, bound to one login's tokens. */
  profileContext(p: ExternalProvider, tokens: ProviderTokenSet, claims: Record<string, unknown> | undefined, callbackParams: URLSearchParams): ProfileContext {
    return {
      tokens,
      claims,
      callbackParams,
      getJson: (url, headers) => getJson(this.fetchFn, url, tokens.accessToken, headers),
      userinfo: () => this.protocol(p).userinfo(tokens.accessToken, typeof claims?.sub === 'string' ? claims.sub : undefined),
      verifyIdToken: async (idToken) => {
        if (!p.idToken) throw new ProviderError('invalid_response', 'provider has no id_token keys');
        try {
          return await verifyIdToken(this.fetchFn, idToken, await p.idToken(), p.audiences, this.now());
        } catch (err) {
          if (err instanceof IdTokenError) throw new ProviderError('invalid_response', err.message, { cause: err });
          throw err;
        }
      },
    };
  }

  private async discoveredIdToken(client: ProtocolClient, jwksOverride?: string): Promise<IdTokenSettings> {
    const m = await client.oidcMetadata();
    const jwksUri = jwksOverride ?? m.jwksUri;
    if (!jwksUri) throw new ProviderError('invalid_response', 'the provider publishes no JWKS');
    return { issuer: m.issuer, jwksUri, nonce: 'sha256' };
  }
}
