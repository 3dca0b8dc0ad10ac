import type { IncomingHttpHeaders } from 'node:http';
import type { Deps } from '../deps';
import { findOauthClientByMetadataUrl, upsertMetadataClient } from '../db/repositories/oauth-clients';
import { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { SafeFetchError } from '../security/safe-fetch';
import { checkRedirectUris, checkUri, type OauthClient } from './oauth-clients';

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; the registration the MCP authorization
 * spec prefers): a client_id that is an https URL with a path names a JSON document of the client's metadata, served
 * by the client. /oauth/authorize fetches it (through the SSRF-guarded fetch), checks it, and keeps it as a row of
 * oauth_clients keyed by the URL, so grants, consents and sessions work as for a registered client. The row is used
 * without fetching again until the document's HTTP cache lifetime (clamped between the min and max TTL settings)
 * runs out.
 *
 * What a document may say: `client_id` (must equal the URL), `redirect_uris` (required, the usual rules),
 * `token_endpoint_auth_method` `none` only (a public client: PKCE is required; a document naming private_key_jwt
 * is refused, as this server verifies no client assertions; client secrets are forbidden by the draft),
 * `grant_types` among authorization_code and refresh_token, `response_types` [code], `client_name`, `client_uri`,
 * `logo_uri`, `post_logout_redirect_uris`.
 * Other members are ignored.
 */

/** 400 oauth_client_metadata_invalid: answered at /oauth/authorize, never on a redirect (the URIs are not trusted). */
const refusal = (description: string) => new ApiError(400, ErrorCodes.oauthClientMetadataInvalid, description, { oauth: { error: 'invalid_client' } });
const invalidMetadata = (message: string) => refusal(`client metadata document: ${message}`);

/**
 * Whether a client_id is a metadata document URL (draft §3): https (or http from an exact testing-only origin), with a
 * path other than "/", no fragment, no userinfo, no dot segments. Anything else is not one (a uuid client_id, say).
 */
export function isMetadataDocumentUrl(deps: Pick<Deps, 'config'>, clientId: string): boolean {
  const cimd = deps.config.oauthServer.cimd;
  if (!cimd.enabled || clientId.length > 2048 || !URL.canParse(clientId)) return false;
  const u = new URL(clientId);
  // client_id compares exactly, so the URL as written must be the URL as parsed: parsing removes dot segments (plain
  // or encoded), lowercases scheme and host and drops a default port, so none of those survive this test. An empty
  // fragment ("…#") does, hence the '#' test.
  if (u.href !== clientId || u.pathname === '/' || clientId.includes('#') || u.username !== '' || u.password !== '') return false;
  return u.protocol === 'https:' || (u.protocol === 'http:' && cimd.testingOnlyInsecureOrigins.includes(u.origin));
}

/**
 * The client a metadata document URL names, fetching its document when there is no stored row or the stored one is
 * past its cache lifetime. A document that cannot be fetched or does not pass is refused (400
 * oauth_client_metadata_invalid) and the stored row, if any, is left as it was; the refusal is remembered in this
 * process for refusalLifetimeMs, and the URL is not fetched again before then (an authorize retry loop must not
 * make us fetch a failing document again and again).
 */
export async function resolveMetadataClient(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config' | 'clientMetadataFetch' | 'clientMetadataRefusals' | 'logger'>, url: string): Promise<OauthClient> {
  const stored = await findOauthClientByMetadataUrl(deps.db, url);
  if (stored && stored.metadata_expires_at && stored.metadata_expires_at > deps.clock.now()) return stored;
  const refused = deps.clientMetadataRefusals.get(url, deps.clock.now());
  if (refused !== undefined) throw refusal(refused);

  let fetched;
  try {
    fetched = await fetchDocument(deps, url);
  } catch (err) {
    if (err instanceof ApiError && err.code === ErrorCodes.oauthClientMetadataInvalid) {
      const until = new Date(deps.clock.now().getTime() + refusalLifetimeMs(deps.config.oauthServer.cimd));
      deps.clientMetadataRefusals.set(url, err.message, until);
      deps.logger.info({ metadata_document_url: url, err: err.message, refused_until: until.toISOString() }, 'client metadata document refused');
    }
    throw err;
  }
  const now = deps.clock.now();
  const client = await upsertMetadataClient(deps.db, {
    id: deps.random.uuid(),
    client_secret_hash: null,
    registration_type: 'metadata_document',
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    ...fetched.fields,
    metadata_document_url: url,
    metadata_expires_at: new Date(now.getTime() + cacheLifetimeMs(fetched.headers, deps.config.oauthServer.cimd, now)),
    created_at: now,
    updated_at: now,
  });
  deps.logger.info({ client_id: client.id, metadata_document_url: url }, stored ? 'client metadata document refreshed' : 'client metadata document fetched');
  return client;
}

/** GET and check the document: its columns and the response headers, or invalidMetadata. */
async function fetchDocument(deps: Pick<Deps, 'clientMetadataFetch'>, url: string) {
  let res;
  try {
    res = await deps.clientMetadataFetch(url);
  } catch (err) {
    if (err instanceof SafeFetchError) throw invalidMetadata(`could not be fetched (${err.message})`);
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw invalidMetadata('is not valid JSON');
  }
  return { fields: checkDocument(url, doc), headers: res.headers };
}

/**
 * Refusals remembered per document URL (an in-process negative cache: each server process keeps its own, and a
 * restart forgets them). Bounded: past `maxEntries` the oldest goes.
 */
export interface MetadataRefusals {
  /** The error description a URL was refused with, while that refusal is in force at `now`. */
  get(url: string, now: Date): string | undefined;
  set(url: string, description: string, until: Date): void;
}

export function createMetadataRefusals(maxEntries = 1000): MetadataRefusals {
  const entries = new Map<string, { description: string; until: number }>();
  return {
    get(url, now) {
      const e = entries.get(url);
      if (e === undefined) return undefined;
      if (e.until > now.getTime()) return e.description;
      entries.delete(url);
      return undefined;
    },
    set(url, description, until) {
      entries.delete(url);
      // Every refusal lasts as long, so the first inserted is the first to lapse.
      for (const k of entries.keys()) {
        if (entries.size < maxEntries) break;
        entries.delete(k);
      }
      entries.set(url, { description, until: until.getTime() });
    },
  };
}

/**
 * How long a refused document is not fetched again: the minimum cache lifetime (a document is never fetched more
 * often than that, failing or not), or 60 s when the minimum is 0 (the document's own headers decide for a valid
 * document, but a failing one has no lifetime of its own, and a retry loop must not become a fetch loop).
 */
export const refusalLifetimeMs = (limits: { cacheMinTtlMs: number }): number => (limits.cacheMinTtlMs > 0 ? limits.cacheMinTtlMs : 60_000);

const str = (doc: Record<string, unknown>, name: string): string | undefined => {
  const v = doc[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidMetadata(`${name} must be a string`);
  return v;
};

const strings = (doc: Record<string, unknown>, name: string): string[] | undefined => {
  const v = doc[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidMetadata(`${name} must be an array of strings`);
  return v as string[];
};

/** The document's rules (see the module comment); returns the columns it sets. */
function checkDocument(url: string, doc: unknown) {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidMetadata('must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d['client_id'] !== url) throw invalidMetadata('client_id must equal the URL the document is served from');
  if ('client_secret' in d || 'client_secret_expires_at' in d) throw invalidMetadata('must not contain a client_secret');
  const method = str(d, 'token_endpoint_auth_method') ?? 'none';
  if (method !== 'none') throw invalidMetadata(`token_endpoint_auth_method '${method.slice(0, 40)}' is not supported: use 'none' (a public client with PKCE)`);
  const redirectUris = strings(d, 'redirect_uris');
  if (!redirectUris || redirectUris.length === 0) throw invalidMetadata('redirect_uris is required');
  const grantTypes = strings(d, 'grant_types') ?? ['authorization_code', 'refresh_token'];
  if (grantTypes.length === 0 || grantTypes.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) throw invalidMetadata('grant_types may only contain authorization_code and refresh_token');
  const responseTypes = strings(d, 'response_types');
  if (responseTypes && responseTypes.some((r) => r !== 'code')) throw invalidMetadata("response_types may only contain 'code'");
  const name = str(d, 'client_name');
  if (name !== undefined && name.length > 1024) throw invalidMetadata('client_name cannot exceed 1024 characters');
  try {
    const postLogout = strings(d, 'post_logout_redirect_uris');
    return {
      redirect_uris: checkRedirectUris(redirectUris),
      grant_types: [...new Set(grantTypes)].join(','),
      client_name: name || null,
      client_uri: checkUri('client_uri', str(d, 'client_uri')),
      logo_uri: checkUri('logo_uri', str(d, 'logo_uri')),
      post_logout_redirect_uris: postLogout && postLogout.length > 0 ? checkRedirectUris(postLogout) : '',
    };
  } catch (err) {
    if (err instanceof ApiError && err.code === ErrorCodes.validationFailed) throw invalidMetadata(err.message);
    throw err;
  }
}

/**
 * How long a fetched document is used (draft §4.3: the HTTP caching rules): Cache-Control max-age, else Expires
 * against Date, else the minimum; no-store and no-cache mean the minimum. Always clamped to [min, max].
 */
export function cacheLifetimeMs(headers: IncomingHttpHeaders, limits: { cacheMinTtlMs: number; cacheMaxTtlMs: number }, now: Date): number {
  const clamp = (ms: number) => Math.min(limits.cacheMaxTtlMs, Math.max(limits.cacheMinTtlMs, ms));
  const cc = (headers['cache-control'] ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(cc)) return limits.cacheMinTtlMs;
  const maxAge = /(?:^|[\s,])max-age\s*=\s*"?(\d{1,10})"?/.exec(cc);
  if (maxAge) return clamp(Number(maxAge[1]) * 1000);
  const expires = headers['expires'] ? Date.parse(headers['expires']) : NaN;
  if (Number.isFinite(expires)) {
    const date = headers['date'] ? Date.parse(headers['date']) : NaN;
    return clamp(expires - (Number.isFinite(date) ? date : now.getTime()));
  }
  return limits.cacheMinTtlMs;
}
