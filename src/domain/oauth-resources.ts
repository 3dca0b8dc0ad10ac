import type { Config } from '../config';
import type { JwtAlgorithm } from '../config/jwt-keys';
import type { Deps } from '../deps';
import {
  deleteOauthResource,
  findOauthResourceById,
  findOauthResourceByUri,
  findResourcesWithScope,
  insertOauthResource,
  listOauthResources,
  listOauthResourceScopes,
  updateOauthResource,
  type OauthResourceValues,
} from '../db/repositories/oauth-resources';
import type { Executor } from '../db/database';
import type { OauthResourceRow, OauthResourceScope } from '../db/schema';
import { badRequest, notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { isUuid } from './identifiers';
import { SUPPORTED_SCOPES } from './oauth-server';
import { rethrowUniqueViolation } from './unique-violation';

/**
 * Resource servers (issue 15, item 4): APIs that accept this server's OAuth access tokens. Each is an RFC 8707
 * resource indicator with its own scopes (RFC 6749 scope-tokens, never an OpenID one) and its own token policy
 * (lifetime, signing alg). A token for a resource is not a first-party session JWT: `aud` is the resource, `scope`
 * the granted scopes, no `role` (sessions.mintTokens). GOTRUE_OAUTH_SERVER_RESOURCES stay resources without custom
 * scopes; a stored resource with the same URI wins. Only this module touches oauth_resources.
 */

/** The OpenID scopes the server grants itself: a resource may not define one of these names. */
export const OPENID_SCOPES: readonly string[] = SUPPORTED_SCOPES;

/** What a token for a resource is made with, whether stored or from GOTRUE_OAUTH_SERVER_RESOURCES. */
export interface ResolvedResource {
  resource: string;
  name: string;
  scopes: OauthResourceScope[];
  /** Seconds; null = the client's lifetime, else the server's JWT expiry. */
  accessTokenTtl: number | null;
  /** The alg the token is signed with (one the signer can sign with); undefined = the signer's own key. */
  signingAlg: JwtAlgorithm | undefined;
}

/** Whether a resource defines a scope of that name. */
export const definesScope = (resource: Pick<ResolvedResource, 'scopes'>, scope: string): boolean => resource.scopes.some((x) => x.name === scope);

export interface ResourceInput {
  resource?: string | undefined;
  name?: string | undefined;
  scopes?: { name?: unknown; description?: unknown }[] | undefined;
  access_token_ttl?: number | null | undefined;
  signing_alg?: string | null | undefined;
}

const invalid = (message: string) => badRequest(ErrorCodes.validationFailed, message);
const resourceNotFound = () => notFound(ErrorCodes.oauthResourceNotFound, 'OAuth resource not found');

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ), here at most 128 characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_SCOPES = 64;

/**
 * The algorithms a resource's tokens may be signed with: those of GOTRUE_JWT_KEYS' keys that can sign (private
 * part present) and that verification accepts, the signing key's first. HS256 only when an `oct` key is in the set.
 */
export function signingAlgorithms(config: Pick<Config, 'jwt'>): JwtAlgorithm[] {
  const keys = config.jwt.keys.filter((k) => (k.alg === 'HS256' ? typeof k.jwk.k === 'string' : typeof k.jwk.d === 'string') && config.jwt.validMethods.includes(k.alg));
  const ordered = [...keys.filter((k) => k.sign), ...keys.filter((k) => !k.sign)];
  return [...new Set(ordered.map((k) => k.alg))];
}

/**
 * The default alg: the signing key's when asymmetric, else the first asymmetric one that can sign; never HS256
 * unchosen. Undefined when no key qualifies (the signer then uses its own key, as for every other token).
 */
export function defaultSigningAlg(config: Pick<Config, 'jwt'>): JwtAlgorithm | undefined {
  return signingAlgorithms(config).find((a) => a !== 'HS256');
}

/** An RFC 8707 resource URI this server may issue tokens for: absolute, no fragment, https (http on loopback). */
export function resourceUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > 2048) return 'resource must be 1 to 2048 characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'resource must be an absolute URI';
  }
  if (uri.includes('#')) return 'resource must not include a fragment component';
  if (u.username !== '' || u.password !== '') return 'resource must not include user information';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
  return 'resource must use https (http only for localhost, 127.0.0.1 or [::1])';
}

function checkScopes(scopes: ResourceInput['scopes']): OauthResourceScope[] {
  if (scopes === undefined) return [];
  if (scopes.length > MAX_SCOPES) throw invalid(`scopes cannot exceed ${MAX_SCOPES} items`);
  const seen = new Set<string>();
  return scopes.map((s, i) => {
    if (typeof s.name !== 'string' || !SCOPE_TOKEN.test(s.name)) throw invalid(`scopes[${i}].name must be an RFC 6749 scope-token (1 to 128 printable ASCII characters, no space, " or \\)`);
    if (OPENID_SCOPES.includes(s.name)) throw invalid(`scopes[${i}].name "${s.name}" is an OpenID scope of this server`);
    if (seen.has(s.name)) throw invalid(`scopes[${i}].name "${s.name}" appears twice`);
    seen.add(s.name);
    const description = s.description ?? '';
    if (typeof description !== 'string' || description.length > 1024) throw invalid(`scopes[${i}].description must be a string of at most 1024 characters`);
    return { name: s.name, description };
  });
}

function checkValues(config: Pick<Config, 'jwt'>, input: ResourceInput, resource: string): OauthResourceValues {
  const name = (input.name ?? '').trim();
  if (name === '' || name.length > 255) throw invalid('name is required (at most 255 characters)');
  const ttl = input.access_token_ttl ?? null;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400)) throw invalid('access_token_ttl must be a whole number of seconds between 60 and 86400');
  const alg = input.signing_alg ?? null;
  const algs = signingAlgorithms(config);
  if (alg !== null && !(algs as string[]).includes(alg)) {
    throw invalid(`signing_alg must be one of the algorithms of the signing keys in GOTRUE_JWT_KEYS: ${algs.join(', ') || '(none)'}`);
  }
  return { resource, name, scopes: checkScopes(input.scopes), accessTokenTtl: ttl, signingAlg: alg };
}

const answerDuplicate = (err: unknown): never =>
  rethrowUniqueViolation(err, { oauth_resources_resource_key: () => invalid('a resource with this URI already exists') });

export async function createResource(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'config'>, input: ResourceInput): Promise<OauthResourceRow> {
  const resource = input.resource ?? '';
  const problem = resourceUriProblem(resource);
  if (problem) throw invalid(problem);
  const values = checkValues(deps.config, input, resource);
  try {
    return await insertOauthResource(deps.db, deps.random.uuid(), values, deps.clock.now());
  } catch (err) {
    return answerDuplicate(err);
  }
}

export const listResources = (deps: Pick<Deps, 'db'>, page: { limit: number; offset: number }) => listOauthResources(deps.db, page);

/** The names of the stored resources' scopes, each once, oldest resource first (discovery lists them). */
export async function resourceScopeNames(deps: Pick<Deps, 'db'>): Promise<string[]> {
  return [...new Set((await listOauthResourceScopes(deps.db)).flat().map((s) => s.name))];
}

export async function getResource(deps: Pick<Deps, 'db'>, id: string): Promise<OauthResourceRow> {
  const row = isUuid(id) ? await findOauthResourceById(deps.db, id.toLowerCase()) : undefined;
  if (!row) throw resourceNotFound();
  return row;
}

/**
 * PUT replaces name, scopes, lifetime and alg (what is left out goes back to its default). The URI cannot change:
 * sessions are bound to it; register a new resource instead. Scopes taken away stop appearing in refreshed tokens.
 */
export async function updateResource(deps: Pick<Deps, 'db' | 'clock' | 'config'>, id: string, input: ResourceInput): Promise<OauthResourceRow> {
  const existing = await getResource(deps, id);
  if (input.resource !== undefined && input.resource !== existing.resource) throw invalid('resource cannot change: register a new resource instead');
  const { resource: _same, ...values } = checkValues(deps.config, input, existing.resource);
  const row = await updateOauthResource(deps.db, existing.id, values, deps.clock.now());
  if (!row) throw resourceNotFound();
  return row;
}

/**
 * Deletes the resource in one statement: the sessions bound to it end (refresh → invalid_grant; clients with a
 * back-channel logout URI are told after commit) and its pending requests go.
 */
export async function deleteResource(deps: Pick<Deps, 'db' | 'backchannelLogout'>, id: string): Promise<void> {
  const ended = isUuid(id) ? await deleteOauthResource(deps.db, id.toLowerCase()) : undefined;
  if (!ended) throw resourceNotFound();
  deps.backchannelLogout.notify(ended);
}

/**
 * The resource a URI names: a stored one, else one of GOTRUE_OAUTH_SERVER_RESOURCES (no custom scopes, the server's
 * defaults); undefined when neither. A stored alg no longer in GOTRUE_JWT_KEYS falls back to the default.
 */
export async function resolveResource(ex: Executor, config: Pick<Config, 'jwt' | 'oauthServer'>, uri: string): Promise<ResolvedResource | undefined> {
  return resourceFrom(config, uri, await findOauthResourceByUri(ex, uri));
}

/**
 * resolveResource's rule for a stored row already read (the refresh grant's lock statement joins it): the row when
 * there is one, else GOTRUE_OAUTH_SERVER_RESOURCES; undefined when neither names `uri`.
 */
export function resourceFrom(
  config: Pick<Config, 'jwt' | 'oauthServer'>,
  uri: string,
  row: Pick<OauthResourceRow, 'resource' | 'name' | 'scopes' | 'access_token_ttl' | 'signing_alg'> | undefined,
): ResolvedResource | undefined {
  if (row) {
    const alg = row.signing_alg && (signingAlgorithms(config) as string[]).includes(row.signing_alg) ? (row.signing_alg as JwtAlgorithm) : defaultSigningAlg(config);
    return { resource: row.resource, name: row.name, scopes: row.scopes, accessTokenTtl: row.access_token_ttl, signingAlg: alg };
  }
  if (config.oauthServer.resources.includes(uri)) return { resource: uri, name: uri, scopes: [], accessTokenTtl: null, signingAlg: defaultSigningAlg(config) };
  return undefined;
}

/** Stored resources defining any of these scope names (to tell a client it forgot `resource`). */
export const resourcesDefiningScopes = (ex: Executor, names: string[]) => findResourcesWithScope(ex, names);

/**
 * The admin view of a resource: `signing_alg` as it applies (the default filled in); `access_token_ttl` null when
 * unset (the client's lifetime applies, else GOTRUE_JWT_EXP).
 */
export function resourceJson(config: Pick<Config, 'jwt'>, r: OauthResourceRow) {
  return {
    id: r.id,
    resource: r.resource,
    name: r.name,
    scopes: r.scopes.map((s) => ({ name: s.name, description: s.description })),
    access_token_ttl: r.access_token_ttl,
    signing_alg: r.signing_alg ?? defaultSigningAlg(config) ?? null,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

/** What the consent page shows for each scope: the OpenID ones' standard words, a resource's own descriptions. */
const OPENID_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in and know who you are',
  email: 'Your email address',
  profile: 'Your name, picture and username',
  phone: 'Your phone number',
  offline_access: 'Stay signed in (keep access while you are away)',
};

export function describeScopes(scopes: string[], resource: Pick<ResolvedResource, 'scopes'> | undefined): OauthResourceScope[] {
  return scopes.map((name) => ({ name, description: OPENID_DESCRIPTIONS[name] ?? resource?.scopes.find((s) => s.name === name)?.description ?? '' }));
}

/**
 * What a consent page shows of a pending request's scopes (GET /oauth/authorizations/{id} and the admin's view):
 * each scope with its description, and the resource the token will be for, if any.
 */
export async function consentScopes(deps: Pick<Deps, 'db' | 'config'>, scopes: string[], resource: string | null) {
  const found = resource ? await resolveResource(deps.db, deps.config, resource) : undefined;
  return {
    scopes: describeScopes(scopes, found),
    ...(found ? { resource: { resource: found.resource, name: found.name } } : {}),
  };
}
