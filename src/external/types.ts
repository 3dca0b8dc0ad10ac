import type { ClientAuthMethod } from '../config/providers';

/** An email the provider reports, as GoTrue's provider.Email. */
export interface ProviderEmail {
  email: string;
  verified: boolean;
  primary: boolean;
}

/** What a provider says about the user: the subject, its emails, and identity_data (GoTrue's provider.Claims). */
export interface ProviderUserData {
  sub: string;
  emails: ProviderEmail[];
  metadata: Record<string, unknown>;
}

/** Tokens from a provider's token endpoint. */
export interface ProviderTokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  tokenType?: string;
  scope?: string;
  expiresAt?: Date;
  /** The whole token response (some providers put the profile in it: WorkOS). */
  raw: Record<string, unknown>;
}

/** Why a provider call failed, so services can answer with the right code. */
export type ProviderErrorKind =
  /** The provider could not be reached, timed out, or answered 5xx. */
  | 'unavailable'
  /** The provider refused (an OAuth error such as invalid_grant); `oauthError` holds its code. */
  | 'rejected'
  /** The provider answered something we cannot use (bad JSON, a bad id_token, no access token). */
  | 'invalid_response';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly oauthError: string | undefined;
  constructor(kind: ProviderErrorKind, message: string, opts: { oauthError?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.oauthError = opts.oauthError;
  }
}

/** Fetch, injected so tests and operators can wrap it; every provider call goes through it. */
export type Fetch = typeof fetch;

/** The OAuth/OIDC endpoints and client settings one provider uses. */
export interface ProtocolSettings {
  protocol: 'oauth2' | 'oidc';
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  clientAuth: ClientAuthMethod;
  pkce: boolean;
  /** OIDC: the issuer (discovery at issuer/.well-known/openid-configuration), or a discovery document URL. */
  issuer?: string;
  discoveryUrl?: string;
  /** Plain OAuth2, or OIDC without discovery. */
  authorizationUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
  jwksUri?: string;
  /** Scopes always requested, before the caller's. */
  scopes: string[];
  /** Separator of the scope parameter (' ' by default; a few providers want ','). */
  scopeSeparator?: string;
  /** Extra authorize parameters the provider always gets. */
  authorizationParams: Record<string, string>;
}

/** A provider ready to use: its protocol client and how it maps what it learns to a user. */
export interface ExternalProvider {
  /** `github`, `custom:acme` … (identities.provider). */
  name: string;
  settings: ProtocolSettings;
  /** Whether refresh tokens are kept in the vault and used. */
  keepsRefreshTokens: boolean;
  emailOptional: boolean;
  skipNonceCheck: boolean;
  /** Client ids accepted as id_token audiences (the first is ours). */
  audiences: string[];
  /** Builds the user from the tokens (and the validated id_token claims of an OIDC login). */
  userData(ctx: ProfileContext): Promise<ProviderUserData>;
  /** The user from a verified bare id_token's claims (grant_type=id_token). */
  userFromIdToken(claims: Record<string, unknown>): ProviderUserData;
  /** How to verify a bare id_token (grant_type=id_token); undefined when the provider has none. */
  idToken?: () => Promise<IdTokenSettings>;
}

/** What a provider's profile mapping may use. */
export interface ProfileContext {
  tokens: ProviderTokenSet;
  /** Validated id_token claims, when the provider is OIDC. */
  claims: Record<string, unknown> | undefined;
  /** GET a JSON document with the access token as Bearer. */
  getJson(url: string, headers?: Record<string, string>): Promise<unknown>;
  /** The OIDC userinfo response (undefined for plain OAuth2). */
  userinfo(): Promise<Record<string, unknown> | undefined>;
  /** Verifies an id_token against the provider's keys (plain OAuth2 providers that still return one: Azure). */
  verifyIdToken(idToken: string): Promise<Record<string, unknown>>;
  /** The callback's parameters (Apple posts the user's name only there, on the first login). */
  callbackParams: URLSearchParams;
}

/** How a bare id_token of this provider is verified. */
export interface IdTokenSettings {
  /** Exact issuer, or a test for issuers that vary per tenant (Azure). */
  issuer: string | ((iss: string) => boolean);
  jwksUri: string;
  /** How the token's nonce relates to the request's: GoTrue's hex SHA-256, or the raw value (Facebook). */
  nonce: 'sha256' | 'raw';
}
