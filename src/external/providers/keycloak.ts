import { base, oidcProfile, type BuiltinProviderSpec } from './spec';

/** Keycloak (OpenID Connect): GOTRUE_EXTERNAL_KEYCLOAK_URL is the realm URL, which is also its issuer. */
export const keycloak: BuiltinProviderSpec = {
  protocol: 'oidc',
  endpoints: (url) => ({ issuer: base(url, ''), api: base(url, '') }),
  scopes: ['profile', 'email'],
  clientAuth: 'post',
  profile: (ctx) => oidcProfile(ctx),
  idToken: 'discovery',
};
