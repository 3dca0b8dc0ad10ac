import { base, userDataFromClaims, type BuiltinProviderSpec } from './spec';

const AZURE_ISSUER = /^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0$/;

/**
 * Microsoft Entra ID (Azure). Multi-tenant endpoints issue tokens whose `iss` names the user's tenant, which a
 * strict OIDC client refuses, so the code flow runs as OAuth2 and the id_token it returns is verified here
 * against the tenant-independent keys. GOTRUE_EXTERNAL_AZURE_URL names a tenant (default: common). Mapped from
 * Microsoft's documentation.
 */
export const azure: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const b = base(url, 'https://login.microsoftonline.com/common');
    return {
      authorizationUrl: `${b}/oauth2/v2.0/authorize`,
      tokenUrl: `${b}/oauth2/v2.0/token`,
      jwksUri: `${b}/discovery/v2.0/keys`,
      issuer: url && !/\/(common|organizations|consumers)$/.test(url) ? `${b}/v2.0` : undefined,
      api: 'https://graph.microsoft.com',
    };
  },
  scopes: ['openid', 'email', 'profile'],
  pkce: true,
  async profile(ctx) {
    if (!ctx.tokens.idToken) throw new Error('Azure answered without an id_token');
    const claims = await ctx.verifyIdToken(ctx.tokens.idToken);
    // Entra ID's email claim is not verified unless the tenant says so (xms_edov).
    return userDataFromClaims({ ...claims, email_verified: claims.xms_edov === true || claims.xms_edov === 1 }, { custom_claims: claims.tid ? { tid: claims.tid } : undefined });
  },
  idToken: (ep) => ({ issuer: ep.issuer ?? ((iss: string) => AZURE_ISSUER.test(iss)), jwksUri: ep.jwksUri! }),
};
