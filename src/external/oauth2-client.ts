import { callProvider, readBody } from './http';
import { ProviderError, type Fetch, type ProtocolSettings, type ProviderTokenSet } from './types';

/**
 * A small RFC 6749 client for plain OAuth2 providers. Written here rather than on openid-client because these
 * providers bend the protocol in ways a strict client refuses: GitHub answers token errors with 200, Figma omits
 * token_type, some answer form-encoded bodies.
 */

export interface AuthorizeParams {
  state: string;
  scopes: string[];
  codeChallenge?: string;
  nonce?: string;
  extra: Record<string, string>;
}

export function buildAuthorizeUrl(endpoint: string, s: ProtocolSettings, p: AuthorizeParams): URL {
  const url = new URL(endpoint);
  url.searchParams.set('client_id', s.clientId);
  url.searchParams.set('redirect_uri', s.redirectUri);
  url.searchParams.set('response_type', 'code');
  if (p.scopes.length > 0) url.searchParams.set('scope', p.scopes.join(s.scopeSeparator ?? ' '));
  url.searchParams.set('state', p.state);
  if (p.codeChallenge) {
    url.searchParams.set('code_challenge', p.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (p.nonce) url.searchParams.set('nonce', p.nonce);
  for (const [k, v] of Object.entries({ ...s.authorizationParams, ...p.extra })) url.searchParams.set(k, v);
  return url;
}

const formEncode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');

/** Client authentication at the token endpoint: Basic header, body, or both (RFC 6749 §2.3.1). */
export function applyClientAuth(s: Pick<ProtocolSettings, 'clientAuth' | 'clientId' | 'clientSecret'>, body: URLSearchParams, headers: Headers): void {
  if (s.clientAuth === 'basic' || s.clientAuth === 'both') {
    headers.set('Authorization', `Basic ${Buffer.from(`${formEncode(s.clientId)}:${formEncode(s.clientSecret)}`).toString('base64')}`);
  }
  if (s.clientAuth === 'post' || s.clientAuth === 'both') {
    body.set('client_id', s.clientId);
    body.set('client_secret', s.clientSecret);
  }
}

/** POSTs a grant to the token endpoint and reads the answer, whatever status the provider puts errors under. */
export async function tokenRequest(fetchFn: Fetch, s: ProtocolSettings, params: Record<string, string>, now: Date): Promise<ProviderTokenSet> {
  if (!s.tokenUrl) throw new ProviderError('invalid_response', 'provider has no token endpoint');
  const body = new URLSearchParams(params);
  const headers = new Headers({ Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' });
  applyClientAuth(s, body, headers);
  const res = await callProvider(fetchFn, s.tokenUrl, { method: 'POST', headers, body });
  if (res.status >= 500) throw new ProviderError('unavailable', `token endpoint answered ${res.status}`);
  const json = await readBody(res);
  if (typeof json.error === 'string' || !res.ok) {
    const code = typeof json.error === 'string' ? json.error : 'invalid_request';
    throw new ProviderError('rejected', `token endpoint refused: ${code}`, { oauthError: code });
  }
  return tokenSetFrom(json, now);
}

export function tokenSetFrom(json: Record<string, unknown>, now: Date): ProviderTokenSet {
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    throw new ProviderError('invalid_response', 'token endpoint answered without an access_token');
  }
  const expiresIn = Number(json.expires_in);
  return {
    accessToken: json.access_token,
    refreshToken: typeof json.refresh_token === 'string' && json.refresh_token !== '' ? json.refresh_token : undefined,
    idToken: typeof json.id_token === 'string' ? json.id_token : undefined,
    tokenType: typeof json.token_type === 'string' ? json.token_type : undefined,
    scope: typeof json.scope === 'string' ? json.scope : undefined,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(now.getTime() + expiresIn * 1000) : undefined,
    raw: json,
  };
}
