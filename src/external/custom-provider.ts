import type { CustomProviderConfig } from '../config/providers';
import { metadata, str, truthy } from './providers/spec';
import type { ProfileContext, ProviderUserData } from './types';

/** Reads a dotted path (`contact.mail`) out of a claims object. */
export function readPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The identity fields a mapping may fill; each reads the OIDC claim of its name unless mapped or defaulted. */
type Field =
  | 'sub' | 'email' | 'email_verified' | 'name' | 'given_name' | 'family_name' | 'nickname' | 'preferred_username' | 'picture'
  | 'phone' | 'phone_verified' | 'locale' | 'user_name' | 'full_name' | 'avatar_url';
const DEFAULTS: Partial<Record<Field, string>> = { phone: 'phone_number', phone_verified: 'phone_number_verified' };

/**
 * Maps a generic provider's claims (userinfo merged with the id_token) to a user, through its attribute mapping:
 * identity field → claim path. Unmapped fields read the standard OIDC claim of that name; `sub` falls back to
 * `id`. Claims on the allow list are copied into custom_claims.
 */
export function mapCustomClaims(p: Pick<CustomProviderConfig, 'attributeMapping' | 'customClaimsAllowlist' | 'issuer'>, claims: Record<string, unknown>): ProviderUserData {
  const get = (field: Field) => readPath(claims, p.attributeMapping[field] ?? DEFAULTS[field] ?? field);
  const sub = str(get('sub')) ?? (p.attributeMapping.sub ? undefined : str(claims.id));
  if (!sub) throw new Error('the provider profile has no subject (map "sub" to the claim holding the user id)');
  const email = str(get('email'));
  const verified = truthy(get('email_verified'));
  const name = str(get('name')) ?? str(get('full_name'));
  const picture = str(get('picture')) ?? str(get('avatar_url'));
  const custom: Record<string, unknown> = {};
  for (const key of p.customClaimsAllowlist) {
    const v = readPath(claims, key);
    if (v !== undefined) custom[key] = v;
  }
  return {
    sub,
    emails: email ? [{ email, verified, primary: true }] : [],
    metadata: metadata({
      iss: str(claims.iss) ?? p.issuer,
      sub,
      name,
      given_name: str(get('given_name')),
      family_name: str(get('family_name')),
      nickname: str(get('nickname')),
      preferred_username: str(get('preferred_username')),
      picture,
      locale: str(get('locale')),
      email,
      email_verified: email ? verified : undefined,
      phone: str(get('phone')),
      phone_verified: get('phone') ? truthy(get('phone_verified')) : undefined,
      user_name: str(get('user_name')),
      full_name: name,
      avatar_url: picture,
      provider_id: sub,
      custom_claims: Object.keys(custom).length > 0 ? custom : undefined,
    }),
  };
}

/** The profile of a generic provider: id_token claims (OIDC) completed by its userinfo endpoint. */
export async function customProfile(p: CustomProviderConfig, ctx: ProfileContext): Promise<ProviderUserData> {
  let info: Record<string, unknown> | undefined;
  if (p.providerType === 'oidc') info = await ctx.userinfo();
  else if (p.userinfoUrl) info = (await ctx.getJson(p.userinfoUrl)) as Record<string, unknown>;
  const claims: Record<string, unknown> = { ...(info ?? {}), ...(ctx.claims ?? {}) };
  for (const [k, v] of Object.entries(info ?? {})) if (claims[k] === undefined || claims[k] === '') claims[k] = v;
  return mapCustomClaims(p, claims);
}
