import { generateKeyPairSync, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { GoTrueClient } from '@supabase/auth-js';
import { uniqueEmail } from './test-server';

/** What tests of the OAuth server share: its env, an RP configured through openid-client, a signed-in user. */

export const CONSENT_PATH = '/oauth/consent';
export const RESOURCE = 'https://api.example.com';
/** API_EXTERNAL_URL of baseEnv: the issuer the RP is configured with (its requests are rewritten to the test server). */
export const ISSUER = 'http://localhost:9999';

export const rsaKey = (() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig', key_ops: ['sign', 'verify'] };
})();

export const oauthEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  GOTRUE_JWT_KEYS: JSON.stringify([rsaKey]),
  GOTRUE_OAUTH_SERVER_ENABLED: 'true',
  GOTRUE_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true',
  GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: CONSENT_PATH,
  GOTRUE_OAUTH_SERVER_RESOURCES: RESOURCE,
  GOTRUE_RATE_LIMIT_OAUTH_DYNAMIC_CLIENT_REGISTER: '100000',
  ...extra,
});

/** fetch as if localhost:9999 resolved to the test server (the RP knows only the issuer URL). */
export const rewritingFetch =
  (serverUrl: string): oidc.CustomFetch =>
  (url, options) =>
    fetch(url.replace(ISSUER, serverUrl), options as RequestInit);

/** An RP configured only with the issuer URL, a client id and its authentication, through discovery. */
export async function relyingParty(serverUrl: string, clientId: string, auth: oidc.ClientAuth, metadata: Partial<oidc.ClientMetadata> = {}) {
  const config = await oidc.discovery(new URL(ISSUER), clientId, metadata, auth, { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: rewritingFetch(serverUrl) });
  return config;
}

/** A fresh user signed in through auth-js (autoconfirm is on in baseEnv). */
export async function signedInUser(client: GoTrueClient, data: Record<string, unknown> = {}) {
  const email = uniqueEmail('oauth');
  const { data: d, error } = await client.signUp({ email, password: 'correct-horse-battery', options: { data } });
  if (error || !d.session || !d.user) throw error ?? new Error('no session');
  return { email, user: d.user, session: d.session };
}

/** Follows /oauth/authorize (no redirects) and returns the Location. */
export async function authorizeLocation(serverUrl: string, url: URL | string): Promise<{ status: number; location: string | null; body: string }> {
  const res = await fetch(String(url).replace(ISSUER, serverUrl), { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}
