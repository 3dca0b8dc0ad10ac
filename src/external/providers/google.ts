import { base, oidcProfile, type BuiltinProviderSpec } from './spec';

/**
 * Google (OpenID Connect, discovery at the issuer). GOTRUE_EXTERNAL_GOOGLE_URL replaces the issuer (a stand-in);
 * grant_type=id_token takes issuer and keys from discovery. Tested against a local OpenID provider.
 */
export const google: BuiltinProviderSpec = {
  protocol: 'oidc',
  endpoints: (url) => ({ issuer: base(url, 'https://accounts.google.com'), api: base(url, 'https://www.googleapis.com') }),
  scopes: ['email', 'profile'],
  clientAuth: 'post',
  profile: (ctx) => oidcProfile(ctx),
  idToken: 'discovery',
};
