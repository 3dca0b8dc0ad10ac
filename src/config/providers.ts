/**
 * The built-in external providers, by the names GoTrue gives them (`/settings`, `?provider=`). Each reads
 * GOTRUE_EXTERNAL_<NAME>_{ENABLED, CLIENT_ID, SECRET, REDIRECT_URI, URL, SKIP_NONCE_CHECK, EMAIL_OPTIONAL}; the
 * schema, the loader and example.env are generated from this one list.
 */
export const BUILTIN_PROVIDERS = [
  'apple',
  'azure',
  'bitbucket',
  'discord',
  'facebook',
  'figma',
  'github',
  'gitlab',
  'google',
  'kakao',
  'keycloak',
  'linkedin_oidc',
  'notion',
  'slack_oidc',
  'spotify',
  'twitch',
  'twitter',
  'workos',
  'x',
  'zoom',
] as const;
export type BuiltinProviderName = (typeof BUILTIN_PROVIDERS)[number];

/** Per-provider variable suffixes, in the order example.env lists them. */
export const PROVIDER_ENV_SUFFIXES = ['ENABLED', 'CLIENT_ID', 'SECRET', 'REDIRECT_URI', 'URL', 'SKIP_NONCE_CHECK', 'EMAIL_OPTIONAL'] as const;
export type ProviderEnvSuffix = (typeof PROVIDER_ENV_SUFFIXES)[number];

export type ProviderEnvKey<P extends string = BuiltinProviderName, S extends string = ProviderEnvSuffix> = `GOTRUE_EXTERNAL_${Uppercase<P>}_${S}`;

export const providerEnvKey = <P extends BuiltinProviderName, S extends ProviderEnvSuffix>(p: P, s: S) =>
  `GOTRUE_EXTERNAL_${p.toUpperCase()}_${s}` as ProviderEnvKey<P, S>;

/** The settings of one built-in provider. */
export interface BuiltinProviderConfig {
  enabled: boolean;
  /** GoTrue accepts several client ids: the first is used for OAuth, all are accepted as id_token audiences. */
  clientIds: string[];
  secret: string;
  /** Where the provider sends the user back: our /callback. */
  redirectUri: string;
  /** Overrides the provider's base URL (self-hosted GitLab, a Keycloak realm, GitHub Enterprise, a test stand-in). */
  url: string | undefined;
  skipNonceCheck: boolean;
  /** Sign-in is allowed when the provider gives no email. */
  emailOptional: boolean;
}

export type ClientAuthMethod = 'basic' | 'post' | 'both';

/** A generic OAuth2/OIDC provider, from GOTRUE_EXTERNAL_CUSTOM_<NAME>_* or the admin API. */
export interface CustomProviderConfig {
  /** `custom:<name>`. */
  identifier: string;
  name: string;
  providerType: 'oauth2' | 'oidc';
  enabled: boolean;
  clientId: string;
  clientSecret: string;
  /** Further client ids accepted as id_token audiences. */
  acceptableClientIds: string[];
  redirectUri: string | undefined;
  issuer: string | undefined;
  discoveryUrl: string | undefined;
  authorizationUrl: string | undefined;
  tokenUrl: string | undefined;
  userinfoUrl: string | undefined;
  jwksUri: string | undefined;
  scopes: string[];
  clientAuth: ClientAuthMethod;
  pkceEnabled: boolean;
  authorizationParams: Record<string, string>;
  /** Whether refresh tokens the provider issues are kept (in the vault) and used. */
  issuesRefreshTokens: boolean;
  /** Identity field → dotted path in the provider's userinfo / id_token claims. */
  attributeMapping: Record<string, string>;
  customClaimsAllowlist: string[];
  emailOptional: boolean;
  skipNonceCheck: boolean;
}
