import { isIP } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Deps } from '../deps';
import type { OauthClientRow } from '../db/schema';
import { anyOauthClientEver, findOauthClient, findOauthClientByMetadataUrl, insertOauthClient, listOauthClients, softDeleteOauthClient, updateOauthClient } from '../db/repositories/oauth-clients';
import { ApiError, badRequest, notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { isUuid } from './identifiers';
import { isPublicAddress } from '../security/safe-fetch';

/**
 * OAuth server clients: the apps that sign in with us (issue 12). Registration (admin or RFC 7591), updates, secret
 * rotation, deletion, and the one client-authentication function the token, revocation and introspection
 * endpoints share. Secrets are 32 random bytes, base64url; only their SHA-256 is stored (GoTrue's hashing, so a
 * Supabase project's clients keep working), and a secret is shown once, when it is made.
 */

export type OauthClient = OauthClientRow;
export type AuthMethod = OauthClientRow['token_endpoint_auth_method'];
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface ClientInput {
  redirect_uris?: string[] | undefined;
  client_type?: string | undefined;
  token_endpoint_auth_method?: string | undefined;
  grant_types?: string[] | undefined;
  client_name?: string | undefined;
  client_uri?: string | undefined;
  logo_uri?: string | undefined;
  access_token_ttl?: number | null | undefined;
  refresh_token_ttl?: number | null | undefined;
  /** Issue 15: authorizing needs aal2. */
  require_mfa?: boolean | undefined;
  /** Issue 15: RP-initiated logout targets. */
  post_logout_redirect_uris?: string[] | undefined;
  /** Issue 15: OIDC Back-Channel Logout endpoint. */
  backchannel_logout_uri?: string | undefined;
  /** Issue 15: max_age of requests that send none. */
  default_max_age?: number | null | undefined;
}

const invalid = (message: string) => badRequest(ErrorCodes.validationFailed, message);

/** base64url SHA-256, as GoTrue stores client secrets. */
const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

function newSecret(deps: Pick<Deps, 'random'>): { secret: string; hash: string } {
  const secret = deps.random.bytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

/**
 * A redirect URI a client may register: absolute, no fragment; https, or http only on a loopback host (RFC 8252
 * §7.3), or a private-use scheme for native apps (com.example.app:/cb, RFC 8252 §7.1).
 */
function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2048) return 'is longer than 2048 characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (u.hash !== '' || uri.includes('#')) return 'must not contain a fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:') return isLoopbackHost(u.hostname) ? undefined : 'must use https (http is allowed for localhost, 127.0.0.1 and [::1] only)';
  if (/^(javascript|data|vbscript|file):$/.test(u.protocol)) return `must not use the ${u.protocol} scheme`;
  return u.protocol.includes('.') ? undefined : 'must use https, a loopback http URL or a private-use scheme with a dot (com.example.app:/callback)';
}

const isLoopbackHost = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';

/**
 * Exact comparison, except that a registered loopback http URI matches the same URI on any port (RFC 8252 §7.3:
 * native apps listen on an ephemeral port).
 */
export function redirectUriAllowed(client: Pick<OauthClient, 'redirect_uris'>, candidate: string): boolean {
  const registered = splitList(client.redirect_uris);
  if (registered.includes(candidate)) return true;
  let c: URL;
  try {
    c = new URL(candidate);
  } catch {
    return false;
  }
  if (c.protocol !== 'http:' || (c.hostname !== '127.0.0.1' && c.hostname !== '[::1]')) return false;
  return registered.some((r) => {
    try {
      const u = new URL(r);
      return u.protocol === 'http:' && u.hostname === c.hostname && u.pathname === c.pathname && u.search === c.search;
    } catch {
      return false;
    }
  });
}

export const splitList = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

export function checkUri(name: string, v: string | undefined): string | null {
  if (v === undefined || v === '') return null;
  if (v.length > 2048) throw invalid(`${name} cannot exceed 2048 characters`);
  if (!/^https?:\/\//i.test(v) || !URL.canParse(v)) throw invalid(`${name} must be a valid URL`);
  return v;
}

function checkTtl(name: string, v: number | null | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v) || v < 60 || v > 31_536_000) throw invalid(`${name} must be a whole number of seconds between 60 and 31536000`);
  return v;
}

export function checkRedirectUris(uris: string[] | undefined): string {
  if (!uris || uris.length === 0) throw invalid('redirect_uris is required');
  if (uris.length > 10) throw invalid('redirect_uris cannot exceed 10 items');
  for (const u of uris) {
    if (typeof u !== 'string') throw invalid('redirect_uris must be strings');
    const problem = redirectUriProblem(u);
    if (problem) throw invalid(`invalid redirect_uri '${u.slice(0, 100)}': ${problem}`);
    if (u.includes(',')) throw invalid(`invalid redirect_uri '${u.slice(0, 100)}': must not contain a comma`);
  }
  return [...new Set(uris)].join(',');
}

/** post_logout_redirect_uris: the redirect URI rules; empty is allowed (no redirect after logout). */
function checkPostLogoutUris(uris: string[] | undefined): string {
  if (!uris || uris.length === 0) return '';
  return checkRedirectUris(uris);
}

/**
 * backchannel_logout_uri (OIDC Back-Channel Logout §2.2): absolute, no fragment, https (http on a loopback host only
 * when an administrator registers it: a dynamic registrant must not point this server's POSTs at its own network).
 */
function checkBackchannelUri(v: string | undefined, registration: 'manual' | 'dynamic'): string | null {
  if (v === undefined || v === '') return null;
  const problem = redirectUriProblem(v);
  if (problem) throw invalid(`invalid backchannel_logout_uri: ${problem}`);
  const u = new URL(v);
  if (u.protocol !== 'https:' && (u.protocol !== 'http:' || registration === 'dynamic')) throw invalid('backchannel_logout_uri must use https');
  if (registration === 'dynamic' && isInternalHost(u.hostname)) throw invalid('backchannel_logout_uri must not name a local or private address');
  return v;
}

/**
 * A host a dynamic registrant may not aim this server's back-channel POSTs at: `localhost` names and IP literals
 * outside public unicast — the SSRF guard's own rule (security/safe-fetch isPublicAddress: private, loopback,
 * link-local, CGNAT, 6to4/NAT64 of those, reserved, multicast). A DNS name that resolves inside is not caught here.
 */
function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && !isPublicAddress(host);
}

function checkDefaultMaxAge(v: number | null | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v) || v < 0 || v > 31_536_000) throw invalid('default_max_age must be a whole number of seconds between 0 and 31536000');
  return v;
}

/** The client type and auth method a registration asks for, with RFC 7591's defaults (GoTrue's Validate). */
function typeAndMethod(input: ClientInput): { type: OauthClient['client_type']; method: AuthMethod } {
  const m = input.token_endpoint_auth_method;
  if (m !== undefined && m !== 'none' && m !== 'client_secret_basic' && m !== 'client_secret_post') {
    throw invalid('token_endpoint_auth_method must be one of: none, client_secret_basic, client_secret_post');
  }
  const t = input.client_type ?? (m === 'none' ? 'public' : 'confidential');
  if (t !== 'public' && t !== 'confidential') throw invalid("client_type must be 'public' or 'confidential'");
  const method: AuthMethod = m ?? (t === 'public' ? 'none' : 'client_secret_basic');
  if (t === 'public' && method !== 'none') throw invalid("public clients must use token_endpoint_auth_method 'none'");
  if (t === 'confidential' && method === 'none') throw invalid("confidential clients cannot use token_endpoint_auth_method 'none'");
  return { type: t, method };
}

function checkGrantTypes(grantTypes: string[] | undefined, type: OauthClient['client_type']): string {
  const list = grantTypes && grantTypes.length > 0 ? grantTypes : ['authorization_code', 'refresh_token'];
  for (const g of list) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) throw invalid('grant_types must only contain authorization_code, refresh_token and client_credentials');
  }
  if (type === 'public' && list.includes('client_credentials')) throw invalid('client_credentials needs a confidential client');
  return [...new Set(list)].join(',');
}

/** Registers a client (admin: manual; RFC 7591: dynamic). The secret is returned once and never stored. */
export async function registerClient(deps: Pick<Deps, 'db' | 'clock' | 'random'>, input: ClientInput, registration: 'manual' | 'dynamic'): Promise<{ client: OauthClient; secret?: string }> {
  const { type, method } = typeAndMethod(input);
  const redirectUris = checkRedirectUris(input.redirect_uris);
  const grantTypes = checkGrantTypes(input.grant_types, type);
  if ((input.client_name ?? '').length > 1024) throw invalid('client_name cannot exceed 1024 characters');
  const secret = type === 'confidential' ? newSecret(deps) : undefined;
  const now = deps.clock.now();
  const client = await insertOauthClient(deps.db, {
    id: deps.random.uuid(),
    client_secret_hash: secret?.hash ?? null,
    registration_type: registration,
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    client_name: input.client_name || null,
    client_uri: checkUri('client_uri', input.client_uri),
    logo_uri: checkUri('logo_uri', input.logo_uri),
    client_type: type,
    token_endpoint_auth_method: method,
    access_token_ttl: checkTtl('access_token_ttl', input.access_token_ttl),
    refresh_token_ttl: checkTtl('refresh_token_ttl', input.refresh_token_ttl),
    require_mfa: input.require_mfa ?? false,
    post_logout_redirect_uris: checkPostLogoutUris(input.post_logout_redirect_uris),
    backchannel_logout_uri: checkBackchannelUri(input.backchannel_logout_uri, registration),
    default_max_age: checkDefaultMaxAge(input.default_max_age),
    created_at: now,
    updated_at: now,
  });
  return { client, secret: secret?.secret };
}

/**
 * The first run's example clients (issue 15): when no client was ever registered, a confidential one (code, refresh
 * and client_credentials, so a curl works at once) and a public PKCE one, both redirecting to `redirectUri`.
 * Returns them with the confidential secret (shown once, never stored), or undefined when clients exist.
 */
export async function createExampleClients(
  deps: Pick<Deps, 'db' | 'clock' | 'random'>,
  redirectUri: string,
): Promise<{ confidential: OauthClient; secret: string; public: OauthClient } | undefined> {
  if (await anyOauthClientEver(deps.db)) return undefined;
  const confidential = await registerClient(deps, { client_name: 'Example confidential app', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] }, 'manual');
  const pub = await registerClient(deps, { client_name: 'Example public app (PKCE)', redirect_uris: [redirectUri], client_type: 'public' }, 'manual');
  return { confidential: confidential.client, secret: confidential.secret!, public: pub.client };
}

/** A live client by id; 404 oauth_client_not_found otherwise (a malformed id too). */
export async function getClient(deps: Pick<Deps, 'db'>, clientId: string): Promise<OauthClient> {
  const client = isUuid(clientId) ? await findOauthClient(deps.db, clientId.toLowerCase()) : undefined;
  if (!client) throw notFound(ErrorCodes.oauthClientNotFound, 'OAuth client not found');
  return client;
}

/**
 * A live client by its public client_id, or undefined (a malformed id too): a uuid, or — with
 * GOTRUE_OAUTH_SERVER_CIMD_ENABLED — the URL of a Client ID Metadata Document already fetched (as stored: the
 * token, revocation, introspection and logout endpoints do not fetch; /oauth/authorize does, see client-metadata.ts).
 */
export async function findClient(deps: Pick<Deps, 'db' | 'config'>, clientId: string): Promise<OauthClient | undefined> {
  if (clientId.startsWith('http')) return deps.config.oauthServer.cimd.enabled ? findOauthClientByMetadataUrl(deps.db, clientId) : undefined;
  return isUuid(clientId) ? findOauthClient(deps.db, clientId.toLowerCase()) : undefined;
}

/** The client_id a client knows itself by: its metadata document URL, else its uuid. ID tokens' aud and azp name it. */
export const publicClientId = (client: Pick<OauthClient, 'id' | 'metadata_document_url'>): string => client.metadata_document_url ?? client.id;

/**
 * The host of a metadata-document client's client_id URL (as URL.host spells it: an IDN in punycode, a port kept);
 * undefined for a registered client. Consent screens show it beside the client's name: the name is whatever the
 * document says (anyone can call their client "Google Drive"), the host is where the document really lives.
 */
export const clientIdHost = (client: Pick<OauthClient, 'metadata_document_url'>): string | undefined => (client.metadata_document_url ? new URL(client.metadata_document_url).host : undefined);

/**
 * The `client` of the consent details (GET /oauth/authorizations/{id}, GET /admin/oauth/authorizations/{id}):
 * GoTrue's id, name, uri and logo_uri; ours, for a metadata-document client only, client_id_host (clientIdHost).
 */
export function consentClient(client: OauthClient) {
  const host = clientIdHost(client);
  return { id: publicClientId(client), name: client.client_name ?? '', uri: client.client_uri ?? '', logo_uri: client.logo_uri ?? '', ...(host === undefined ? {} : { client_id_host: host }) };
}

export async function listClients(deps: Pick<Deps, 'db'>, page: { limit: number; offset: number }) {
  return listOauthClients(deps.db, page);
}

/** PUT /admin/oauth/clients/{id}: the fields given change; the type and auth method stay as registered. */
export async function updateClient(deps: Pick<Deps, 'db' | 'clock'>, clientId: string, input: ClientInput): Promise<OauthClient> {
  const client = await getClient(deps, clientId);
  if (input.client_type !== undefined && input.client_type !== client.client_type) throw invalid('client_type cannot be changed');
  if (input.token_endpoint_auth_method !== undefined && input.token_endpoint_auth_method !== client.token_endpoint_auth_method) {
    typeAndMethod({ client_type: client.client_type, token_endpoint_auth_method: input.token_endpoint_auth_method });
  }
  const set = {
    ...(input.redirect_uris !== undefined ? { redirect_uris: checkRedirectUris(input.redirect_uris) } : {}),
    ...(input.grant_types !== undefined ? { grant_types: checkGrantTypes(input.grant_types, client.client_type) } : {}),
    ...(input.client_name !== undefined ? { client_name: input.client_name.length > 1024 ? (() => { throw invalid('client_name cannot exceed 1024 characters'); })() : input.client_name || null } : {}),
    ...(input.client_uri !== undefined ? { client_uri: checkUri('client_uri', input.client_uri) } : {}),
    ...(input.logo_uri !== undefined ? { logo_uri: checkUri('logo_uri', input.logo_uri) } : {}),
    ...(input.token_endpoint_auth_method !== undefined ? { token_endpoint_auth_method: input.token_endpoint_auth_method as AuthMethod } : {}),
    ...(input.access_token_ttl !== undefined ? { access_token_ttl: checkTtl('access_token_ttl', input.access_token_ttl) } : {}),
    ...(input.refresh_token_ttl !== undefined ? { refresh_token_ttl: checkTtl('refresh_token_ttl', input.refresh_token_ttl) } : {}),
    ...(input.require_mfa !== undefined ? { require_mfa: input.require_mfa } : {}),
    ...(input.post_logout_redirect_uris !== undefined ? { post_logout_redirect_uris: checkPostLogoutUris(input.post_logout_redirect_uris) } : {}),
    ...(input.backchannel_logout_uri !== undefined ? { backchannel_logout_uri: checkBackchannelUri(input.backchannel_logout_uri, 'manual') } : {}),
    ...(input.default_max_age !== undefined ? { default_max_age: checkDefaultMaxAge(input.default_max_age) } : {}),
  };
  if (Object.keys(set).length === 0) throw invalid('No fields provided for update');
  const updated = await updateOauthClient(deps.db, client.id, { ...set, updated_at: deps.clock.now() });
  if (!updated) throw notFound(ErrorCodes.oauthClientNotFound, 'OAuth client not found');
  return updated;
}

/** A new secret for a confidential client; the old one stops working at once. */
export async function regenerateSecret(deps: Pick<Deps, 'db' | 'clock' | 'random'>, clientId: string): Promise<{ client: OauthClient; secret: string }> {
  const client = await getClient(deps, clientId);
  if (client.client_type !== 'confidential') throw invalid('Cannot regenerate secret for public client');
  const s = newSecret(deps);
  const updated = await updateOauthClient(deps.db, client.id, { client_secret_hash: s.hash, updated_at: deps.clock.now() });
  if (!updated) throw notFound(ErrorCodes.oauthClientNotFound, 'OAuth client not found');
  return { client: updated, secret: s.secret };
}

/** Deletes a client and ends its sessions, pending authorizations and grants (one statement). */
export async function deleteClient(deps: Pick<Deps, 'db' | 'clock'>, clientId: string): Promise<void> {
  const client = await getClient(deps, clientId);
  if (!(await softDeleteOauthClient(deps.db, client.id, deps.clock.now()))) throw notFound(ErrorCodes.oauthClientNotFound, 'OAuth client not found');
}

/** RFC 6749 §5.2 invalid_client: 401, with WWW-Authenticate (the error handler adds it). */
export const invalidClient = (message = 'Client authentication failed') => new ApiError(401, ErrorCodes.oauthInvalidClient, message, { oauth: { error: 'invalid_client' } });

export interface ClientCredentials {
  /** The Authorization header, for client_secret_basic. */
  authorization: string | undefined;
  /** client_id and client_secret from the body, for client_secret_post and none. */
  clientId: string | undefined;
  clientSecret: string | undefined;
}

/**
 * Client authentication for the token, revocation and introspection endpoints (RFC 6749 §2.3, RFC 7591 §2): the
 * client must use the method it registered — client_secret_basic (HTTP Basic, form-urlencoded id and secret),
 * client_secret_post (both in the body) or none (a public client names itself; PKCE protects its codes). One
 * method per request; the secret is compared in constant time. Every failure is the same 401 invalid_client.
 */
export async function authenticateClient(deps: Pick<Deps, 'db' | 'config'>, c: ClientCredentials): Promise<OauthClient> {
  const basic = parseBasic(c.authorization);
  if (basic && (c.clientSecret !== undefined || (c.clientId !== undefined && c.clientId !== basic.id))) {
    throw invalidClient('Use one client authentication method per request');
  }
  const id = basic?.id ?? c.clientId;
  if (!id) throw invalidClient('Client authentication required');
  const client = await findClient(deps, id);
  if (!client) throw invalidClient();
  const method = basic ? 'client_secret_basic' : c.clientSecret !== undefined ? 'client_secret_post' : 'none';
  if (method !== client.token_endpoint_auth_method) throw invalidClient(`Client must authenticate with ${client.token_endpoint_auth_method}`);
  if (method === 'none') return client;
  const secret = basic?.secret ?? c.clientSecret ?? '';
  if (!client.client_secret_hash || !secretMatches(secret, client.client_secret_hash)) throw invalidClient();
  return client;
}

function secretMatches(secret: string, storedHash: string): boolean {
  const a = createHash('sha256').update(secret).digest();
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HTTP Basic credentials; RFC 6749 §2.3.1 form-urlencodes both parts. Undefined: no Basic header. */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) {
    if (header && /^Basic\b/i.test(header)) throw invalidClient('Malformed Basic credentials');
    return undefined;
  }
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) throw invalidClient('Malformed Basic credentials');
  try {
    return { id: decodeURIComponent(text.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(text.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    throw invalidClient('Malformed Basic credentials');
  }
}

/** The client allows this grant type. */
export const allowsGrant = (client: OauthClient, grant: string): boolean => splitList(client.grant_types).includes(grant);
