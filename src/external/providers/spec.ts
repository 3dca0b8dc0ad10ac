import type { BuiltinProviderConfig, ClientAuthMethod } from '../../config/providers';
import type { IdTokenSettings, ProfileContext, ProviderEmail, ProviderUserData } from '../types';

/** Where a provider's endpoints live; derived from GOTRUE_EXTERNAL_<P>_URL when set (self-hosted, or a stand-in). */
export interface ProviderEndpoints {
  issuer?: string;
  discoveryUrl?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
  jwksUri?: string;
  /** Base of the provider's REST API, for profile calls. */
  api: string;
}

/** One built-in provider: its protocol, endpoints, defaults and how its profile maps to an identity. */
export interface BuiltinProviderSpec {
  protocol: 'oauth2' | 'oidc';
  endpoints(url: string | undefined): ProviderEndpoints;
  /** GoTrue's default scopes for the provider; the caller's `scopes` are added. */
  scopes: string[];
  scopeSeparator?: string;
  /** Default: post (client id and secret in the body), as golang.org/x/oauth2 falls back to. */
  clientAuth?: ClientAuthMethod;
  /** Send a PKCE challenge upstream. Default: on for OIDC, off for OAuth2. */
  pkce?: boolean;
  authorizationParams?: Record<string, string>;
  /** Whether the provider hands out refresh tokens worth keeping. Default true. */
  refreshTokens?: boolean;
  profile(ctx: ProfileContext, endpoints: ProviderEndpoints, config: BuiltinProviderConfig): Promise<ProviderUserData>;
  /** grant_type=id_token support: static settings, or 'discovery' to take issuer and JWKS from discovery. */
  idToken?: ((endpoints: ProviderEndpoints) => Omit<IdTokenSettings, 'nonce'> & { nonce?: IdTokenSettings['nonce'] }) | 'discovery';
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** An email_verified claim: a boolean, or the strings "true"/"false" (Apple). */
export const truthy = (v: unknown): boolean => v === true || v === 'true' || v === 1;

/** identity_data as GoTrue's provider.Claims writes it: empty fields omitted. */
export function metadata(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || v === '') continue;
    out[k] = v;
  }
  return out;
}

/** The user from standard OIDC claims (id_token merged with userinfo). */
export function userDataFromClaims(claims: Record<string, unknown>, extra: Record<string, unknown> = {}): ProviderUserData {
  const sub = str(claims.sub);
  if (!sub) throw new Error('provider claims carry no sub');
  const email = str(claims.email);
  const verified = truthy(claims.email_verified);
  const name = str(claims.name);
  const picture = str(claims.picture);
  return {
    sub,
    emails: email ? [{ email, verified, primary: true }] : [],
    metadata: metadata({
      iss: str(claims.iss),
      sub,
      name,
      family_name: str(claims.family_name),
      given_name: str(claims.given_name),
      nickname: str(claims.nickname),
      preferred_username: str(claims.preferred_username),
      picture,
      locale: str(claims.locale),
      email,
      email_verified: email ? verified : undefined,
      phone: str(claims.phone_number),
      phone_verified: claims.phone_number ? truthy(claims.phone_number_verified) : undefined,
      // GoTrue's deprecated aliases, still read by apps.
      full_name: name,
      avatar_url: picture,
      provider_id: sub,
      ...extra,
    }),
  };
}

/** OIDC profile: validated id_token claims, completed by userinfo when the provider has it. */
export async function oidcProfile(ctx: ProfileContext, extra: Record<string, unknown> = {}): Promise<ProviderUserData> {
  const info = (await ctx.userinfo()) ?? {};
  const claims = { ...info, ...(ctx.claims ?? {}) };
  // userinfo may be richer (name, picture) than the id_token; the id_token's sub and iss win.
  for (const [k, v] of Object.entries(info)) if (claims[k] === undefined || claims[k] === '') claims[k] = v;
  return userDataFromClaims(claims, extra);
}

export const emailOf = (email: string | undefined, verified: boolean): ProviderEmail[] =>
  email ? [{ email, verified, primary: true }] : [];

/** Base URL: the configured override, else the provider's public default. */
export const base = (url: string | undefined, dflt: string) => (url ?? dflt).replace(/\/+$/, '');
