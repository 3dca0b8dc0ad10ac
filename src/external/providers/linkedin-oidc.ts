import { base, oidcProfile, type BuiltinProviderSpec } from './spec';

/** LinkedIn "Sign In with LinkedIn using OpenID Connect". Mapped from LinkedIn's documentation. */
export const linkedinOidc: BuiltinProviderSpec = {
  protocol: 'oidc',
  endpoints: (url) => ({ issuer: base(url, 'https://www.linkedin.com/oauth'), api: base(url, 'https://api.linkedin.com') }),
  scopes: ['profile', 'email'],
  clientAuth: 'post',
  pkce: false,
  profile: (ctx) => oidcProfile(ctx),
};
