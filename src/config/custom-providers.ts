import { parseGoBool, parseList } from './parsers';
import type { ClientAuthMethod, CustomProviderConfig } from './providers';

/**
 * Generic providers configured by environment: GOTRUE_EXTERNAL_CUSTOM_<NAME>_<SETTING>, used as
 * `provider=custom:<name>` (NAME lower-cased; letters and digits only, so NAME and SETTING never blur).
 * These variables have open-ended names, so they are read here rather than in the zod schema.
 */
export const CUSTOM_PROVIDER_SETTINGS = [
  'ENABLED',
  'TYPE',
  'DISPLAY_NAME',
  'CLIENT_ID',
  'SECRET',
  'ACCEPTABLE_CLIENT_IDS',
  'REDIRECT_URI',
  'ISSUER',
  'DISCOVERY_URL',
  'AUTHORIZATION_URL',
  'TOKEN_URL',
  'USERINFO_URL',
  'JWKS_URI',
  'SCOPES',
  'CLIENT_AUTH',
  'PKCE',
  'AUTHORIZATION_PARAMS',
  'ISSUES_REFRESH_TOKENS',
  'ATTRIBUTE_MAPPING',
  'CUSTOM_CLAIMS_ALLOWLIST',
  'EMAIL_OPTIONAL',
  'SKIP_NONCE_CHECK',
] as const;
type Setting = (typeof CUSTOM_PROVIDER_SETTINGS)[number];

const PREFIX = 'GOTRUE_EXTERNAL_CUSTOM_';
// Longest first, so ..._ACCEPTABLE_CLIENT_IDS is never read as ..._CLIENT_ID + S.
const BY_LENGTH = [...CUSTOM_PROVIDER_SETTINGS].sort((a, b) => b.length - a.length);

/** Scopes and lists: separated by commas or spaces. */
const words = (v: string) => parseList(v.replace(/\s+/g, ','));

/** `k=v&k2=v2` or `k=v,k2=v2`. */
export function parseAuthorizationParams(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(/[&,]/).map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    out[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
  }
  return out;
}

const isAbsoluteHttpUrl = (v: string) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol);

export interface ParsedCustomProviders {
  providers: CustomProviderConfig[];
  problems: string[];
}

/** Pure: reads every GOTRUE_EXTERNAL_CUSTOM_* variable; reports each problem with the variable's name. */
export function parseCustomProviders(env: Record<string, string | undefined>): ParsedCustomProviders {
  const grouped = new Map<string, Partial<Record<Setting, string>>>();
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(PREFIX) || raw === undefined || raw.trim() === '') continue;
    const rest = key.slice(PREFIX.length);
    const setting = BY_LENGTH.find((s) => rest.endsWith(`_${s}`));
    const name = setting ? rest.slice(0, -(setting.length + 1)) : '';
    if (!setting || !/^[A-Z0-9]{1,40}$/.test(name)) {
      problems.push(`${key}: not a custom provider setting (GOTRUE_EXTERNAL_CUSTOM_<NAME>_<SETTING>, NAME of A-Z and 0-9)`);
      continue;
    }
    const g = grouped.get(name) ?? {};
    g[setting] = raw.trim();
    grouped.set(name, g);
  }

  const providers: CustomProviderConfig[] = [];
  for (const [name, s] of grouped) {
    const at = (k: Setting) => `${PREFIX}${name}_${k}`;
    const flag = (k: Setting, dflt: boolean) => {
      if (s[k] === undefined) return dflt;
      const b = parseGoBool(s[k]);
      if (b === undefined) problems.push(`${at(k)}: expected a boolean (true/false/1/0), got "${s[k]}"`);
      return b ?? dflt;
    };
    const urlOf = (k: Setting) => {
      const v = s[k];
      if (v !== undefined && !isAbsoluteHttpUrl(v)) problems.push(`${at(k)}: expected an absolute http(s) URL`);
      return v;
    };
    const enabled = flag('ENABLED', false);
    const type = s.TYPE ?? (s.ISSUER || s.DISCOVERY_URL ? 'oidc' : 'oauth2');
    if (type !== 'oidc' && type !== 'oauth2') problems.push(`${at('TYPE')}: expected oidc or oauth2, got "${type}"`);
    const clientAuth = (s.CLIENT_AUTH ?? 'basic') as ClientAuthMethod;
    if (!['basic', 'post', 'both'].includes(clientAuth)) problems.push(`${at('CLIENT_AUTH')}: expected basic, post or both`);
    const params = s.AUTHORIZATION_PARAMS === undefined ? {} : parseAuthorizationParams(s.AUTHORIZATION_PARAMS);
    if (!params) problems.push(`${at('AUTHORIZATION_PARAMS')}: expected k=v pairs separated by & or ,`);
    let mapping: Record<string, string> = {};
    if (s.ATTRIBUTE_MAPPING !== undefined) {
      try {
        const parsed: unknown = JSON.parse(s.ATTRIBUTE_MAPPING);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error();
        mapping = parsed as Record<string, string>;
      } catch {
        problems.push(`${at('ATTRIBUTE_MAPPING')}: expected a JSON object of identity field → claim name, e.g. {"email":"mail"}`);
      }
    }
    const p: CustomProviderConfig = {
      identifier: `custom:${name.toLowerCase()}`,
      name: s.DISPLAY_NAME ?? name.toLowerCase(),
      providerType: type === 'oidc' ? 'oidc' : 'oauth2',
      enabled,
      clientId: s.CLIENT_ID ?? '',
      clientSecret: s.SECRET ?? '',
      acceptableClientIds: words(s.ACCEPTABLE_CLIENT_IDS ?? ''),
      redirectUri: urlOf('REDIRECT_URI'),
      issuer: urlOf('ISSUER'),
      discoveryUrl: urlOf('DISCOVERY_URL'),
      authorizationUrl: urlOf('AUTHORIZATION_URL'),
      tokenUrl: urlOf('TOKEN_URL'),
      userinfoUrl: urlOf('USERINFO_URL'),
      jwksUri: urlOf('JWKS_URI'),
      scopes: words(s.SCOPES ?? ''),
      clientAuth,
      pkceEnabled: flag('PKCE', true),
      authorizationParams: params ?? {},
      issuesRefreshTokens: flag('ISSUES_REFRESH_TOKENS', true),
      attributeMapping: mapping,
      customClaimsAllowlist: words(s.CUSTOM_CLAIMS_ALLOWLIST ?? ''),
      emailOptional: flag('EMAIL_OPTIONAL', false),
      skipNonceCheck: flag('SKIP_NONCE_CHECK', false),
    };
    if (enabled) problems.push(...checkCustomProvider(p).map((m) => `${PREFIX}${name}: ${m}`));
    providers.push(p);
  }
  return { providers, problems };
}

/** What an enabled generic provider needs; shared by the env loader and the admin API. */
export function checkCustomProvider(p: Pick<CustomProviderConfig, 'providerType' | 'clientId' | 'issuer' | 'discoveryUrl' | 'authorizationUrl' | 'tokenUrl' | 'userinfoUrl'>): string[] {
  const out: string[] = [];
  if (!p.clientId) out.push('a client id is required');
  if (p.providerType === 'oidc' && !p.issuer && !p.discoveryUrl) out.push('an OIDC provider needs an issuer or a discovery URL');
  if (p.providerType === 'oauth2' && (!p.authorizationUrl || !p.tokenUrl || !p.userinfoUrl)) {
    out.push('an OAuth2 provider needs an authorization URL, a token URL and a userinfo URL');
  }
  return out;
}
