import bcrypt from 'bcrypt';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { createHash, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { insertFactor } from '../helpers/admin';
import { GithubStandIn } from '../helpers/github-stand-in';
import { listRoutes, type MountedRoute } from '../helpers/routes';
import { recordingSms, uniquePhone } from '../helpers/sms-recorder';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { TEST_JWT_SECRET, uniqueEmail } from '../helpers/test-server';
import { apiKeyJwt, forgeJwt, serviceRoleJwt, unsignedJwt } from '../helpers/tokens';
import { oauthEnv } from '../helpers/oauth-server';

/**
 * A property-based hostile-input run over every route the route table mounts (issue 10, item 7): thousands of
 * requests mixing hostile input (wrong types, nulls, huge and unicode strings, lone surrogates, deep nesting,
 * `__proto__` keys, garbage paths, query strings, headers and credentials) with valid-ish input drawn from what
 * the server itself handed out (known emails, user, identity and factor ids, refresh tokens, link hashes, OTPs,
 * PKCE codes, OAuth states), so deep code paths run too. Every reply must be a success (2xx/3xx; a redirect that
 * carries an error names its error_code), or a 4xx JSON error with an error_code — never a 5xx, never a non-JSON
 * 4xx, never a hang.
 *
 * FC_SEED replays a run's requests (the server's state differs run to run: failures print the request in full);
 * FC_RUNS sets the number of requests (10,000 by default).
 */

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 10_000;
/** Requests in flight at once: enough to overlap database round trips, few enough for a shared 2-core machine. */
const CONCURRENCY = Number(process.env.FC_CONCURRENCY ?? 4);
/** A reply slower than this is a hang (the server's own request limit is 10 s). */
const HANG_MS = 30_000;

const PASSWORD = 'pass-word-1';
const VERIFIER = 'v'.repeat(43) + '-fuzz-verifier';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const OTHER_SECRET = 'another-secret-that-is-at-least-32-bytes';
const OAUTH_API_KEY = 'fuzz-platform-api-key-0123456789';
const OAUTH_REDIRECT = 'https://rp.example/callback';

// Two servers, a stand-in, an SMTP listener and seeded users: on a loaded machine PGlite's migrations alone have
// taken most of the default 90 s.
vi.setConfig({ hookTimeout: 300_000 });

const gh = new GithubStandIn('gh-client', 'gh-secret');
const sms = recordingSms();
beforeAll(() => gh.start());
afterAll(() => gh.close());

const env = () => ({
  GOTRUE_SECURITY_MANUAL_LINKING_ENABLED: 'true',
  GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true',
  GOTRUE_EXTERNAL_PHONE_ENABLED: 'true',
  GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k:${Buffer.alloc(32, 7).toString('base64')}`,
  GOTRUE_EXTERNAL_GITHUB_ENABLED: 'true',
  GOTRUE_EXTERNAL_GITHUB_CLIENT_ID: 'gh-client',
  GOTRUE_EXTERNAL_GITHUB_SECRET: 'gh-secret',
  GOTRUE_EXTERNAL_GITHUB_URL: gh.url,
  GOTRUE_URI_ALLOW_LIST: 'http://localhost:3000/**',
  // The OAuth 2.1 / OpenID provider too (issue 12): its routes answer 404 while it is off.
  ...oauthEnv({ GOTRUE_OAUTH_SERVER_API_KEY: OAUTH_API_KEY }),
});
const server = useTestApp({ listen: true, overrides: { sms }, env });
/** A second server on the same database with email confirmations on and a real SMTP listener: unconfirmed paths. */
const strict = useTestApp({ db: server.db, mail: true, overrides: { sms }, env });

// ---------------------------------------------------------------------------------------------------------------
// What the server handed out: pools the valid-ish generators draw from, filled as replies come in.

const POOLS = ['emails', 'phones', 'userIds', 'identityIds', 'factors', 'providerRefs', 'refreshTokens', 'links', 'otps', 'authCodes', 'callbacks', 'oauthClients', 'authorizationIds', 'idTokens'] as const;
type PoolName = (typeof POOLS)[number];
const pools: Record<PoolName, string[]> = Object.fromEntries(POOLS.map((p) => [p, []])) as unknown as Record<PoolName, string[]>;
/**
 * Entries of `links` are `type hashed_token email_otp email` (generate_link); `callbacks`, `state code`; `factors`,
 * `user_id factor_id`; `oauthClients`, `client_id client_secret` (the secret empty for a public client).
 */
const POOL_CAP = 300;

function remember(pool: PoolName, value: unknown): void {
  if (typeof value !== 'string' || value === '' || value.length > 2048) return;
  const list = pools[pool];
  if (list.includes(value)) return;
  list.push(value);
  if (list.length > POOL_CAP) list.splice(0, list.length - POOL_CAP);
}

/** A value taken from a pool when the request is sent (the pool grows as the run goes). */
class Pick {
  constructor(
    readonly pool: PoolName,
    readonly i: number,
    /** For pools of space-separated tuples: which part. One request takes its parts from one tuple. */
    readonly part?: number,
  ) {}
}
/** A value made fresh when the request is sent (a new address: a sign-up that succeeds). */
class Fresh {
  constructor(readonly kind: 'email' | 'phone' | 'identifier') {}
}

const pick = (pool: PoolName, part?: number) => fc.nat().map((i) => new Pick(pool, i, part));
const fresh = (kind: Fresh['kind']) => fc.constant(new Fresh(kind));
let freshCounter = 0;

/** The tuple each pool gave the request being built, so `state` and `code` (or a link's type and hash) match. */
let tuples = new Map<PoolName, string>();

function resolve(v: unknown): unknown {
  if (v instanceof Pick) {
    const list = pools[v.pool];
    if (v.part === undefined) return list.length === 0 ? '' : list[v.i % list.length]!;
    const tuple = tuples.get(v.pool) ?? (list.length === 0 ? '' : list[v.i % list.length]!);
    tuples.set(v.pool, tuple);
    return tuple.split(' ')[v.part] ?? '';
  }
  if (v instanceof Fresh) {
    if (v.kind === 'email') return uniqueEmail('fuzz');
    if (v.kind === 'phone') return uniquePhone();
    return `custom:fz${Date.now().toString(36)}${(freshCounter++).toString(36)}`;
  }
  if (Array.isArray(v)) return v.map(resolve);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile values.

const SPECIAL_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udc00x', '\uffff', '\u202e', 'e\u0301', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '😀', 'null', 'undefined', 'NaN', 'true', '0', '-1',
  '../../etc/passwd', '..\\..\\windows', '%00', '%zz', '<script>alert(1)</script>', "'; drop table auth.users; --", '${jndi:ldap://x}',
  '{{7*7}}', '__proto__', 'constructor', 'prototype', 'toString', 'javascript:alert(1)', 'http://localhost:3000/x', 'https://evil.example/',
  '//evil.example', 'mailto:a@b.co', 'a@b', 'user@example.com', '+15555550100', '1555', '2024-01-01', '9999-12-31T23:59:59Z', 'custom:', 'custom:x',
  'github', 'email', 'phone', 'signup', 'recovery', 'sms', 'Bearer', 'eyJhbGciOiJIUzI1NiJ9.e30.', '\r\n', '\t', '\\', '"', "'", '%', '*',
];
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 5, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '😀', '\u0000', 'a@'), fc.integer({ min: 256, max: 70_000 })).map(([s, n]) => s.repeat(n)) },
);
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', '\u0000', 'email', 'password', 'id', 'role', 'aud'),
  fc.string({ maxLength: 12 }),
);
/** Objects are built with Object.fromEntries, so `__proto__` is an own key and reaches the wire. */
const { hostile: hostileValue } = fc.letrec<{ hostile: unknown }>((tie) => ({
  hostile: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constant(null),
    fc.boolean(),
    hostileNumber,
    hostileString,
    fc.array(tie('hostile'), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie('hostile')), { maxLength: 4 }).map((e) => Object.fromEntries(e)),
  ),
}));

// ---------------------------------------------------------------------------------------------------------------
// Valid-ish values, by field name (bodies and queries share them).

const smallMetadata = fc.oneof(
  fc.constant({}),
  fc.constant({ name: 'Fuzz', plan: 'pro' }),
  fc.array(fc.tuple(hostileKey, hostileValue), { maxLength: 3 }).map((e) => Object.fromEntries(e)),
);
const VERIFY_TYPES = ['signup', 'invite', 'recovery', 'magiclink', 'email_change', 'email', 'sms', 'phone_change', 'email_change_current', 'email_change_new', 'reauthentication'];
const url = fc.constantFrom('http://localhost:3000/after', 'http://localhost:3000', 'https://evil.example/x', 'javascript:alert(1)', 'http://127.0.0.1:1/discovery', 'not a url', '');
const httpsUrl = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('https://issuer.example', 'https://issuer.example/authorize', 'http://127.0.0.1:1/token', 'https://a.example/u') }, { weight: 1, arbitrary: fc.constant('ftp://x') });
const VALID: Record<string, fc.Arbitrary<unknown>> = {
  email: fc.oneof({ weight: 4, arbitrary: pick('emails') }, { weight: 1, arbitrary: pick('links', 3) }, { weight: 3, arbitrary: fresh('email') }, { weight: 1, arbitrary: fc.constantFrom('not-an-email', 'a@b', 'UPPER@EXAMPLE.COM', ' spaced@example.com ', '@example.com') }),
  new_email: fc.oneof(pick('emails'), fresh('email')),
  phone: fc.oneof(pick('phones'), fresh('phone'), fc.constantFrom('+1 (555) 555-0100', '123', '+999999999999999999')),
  password: fc.constantFrom(PASSWORD, PASSWORD, 'short', 'p'.repeat(72), 'p'.repeat(73), '€'.repeat(25)),
  current_password: fc.constantFrom(PASSWORD, 'wrong-password'),
  data: smallMetadata,
  user_metadata: smallMetadata,
  app_metadata: smallMetadata,
  type: fc.oneof({ weight: 2, arbitrary: pick('links', 0) }, { weight: 1, arbitrary: fc.constantFrom(...VERIFY_TYPES) }),
  token: fc.oneof({ weight: 2, arbitrary: pick('links', 1) }, { weight: 2, arbitrary: pick('links', 2) }, { weight: 1, arbitrary: pick('otps') }, { weight: 1, arbitrary: fc.stringMatching(/^\d{6}$/) }),
  token_hash: fc.oneof({ weight: 3, arbitrary: pick('links', 1) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{56}$/) }),
  redirect_to: url,
  refresh_token: fc.oneof({ weight: 4, arbitrary: pick('refreshTokens') }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9]{12}$/) }),
  auth_code: fc.oneof(pick('authCodes'), fc.uuid()),
  code_verifier: fc.constantFrom(VERIFIER, VERIFIER, 'short', 'x'.repeat(129)),
  code_challenge: fc.constantFrom(CHALLENGE, CHALLENGE, 'short', 'x'.repeat(200)),
  code_challenge_method: fc.constantFrom('s256', 'S256', 'plain', 'none', ''),
  id_token: fc.oneof(fc.constant(forgeJwt({ iss: 'https://accounts.google.com', sub: '1', aud: 'x', exp: 9_999_999_999 })), fc.constant('a.b.c')),
  provider: fc.oneof({ weight: 3, arbitrary: fc.constant('github') }, { weight: 2, arbitrary: fc.constantFrom('google', 'apple', 'custom:fz', 'email', '') }),
  nonce: fc.oneof(pick('otps'), fc.constant('n-1')),
  create_user: fc.boolean(),
  channel: fc.constantFrom('sms', 'whatsapp', 'carrier-pigeon'),
  link_identity: fc.boolean(),
  role: fc.constantFrom('authenticated', 'service_role', 'supabase_admin', 'anon', 'x'.repeat(300)),
  aud: fc.constantFrom('authenticated', 'other-app', 'x'.repeat(300)),
  id: fc.oneof(fc.uuid(), pick('userIds')),
  ban_duration: fc.constantFrom('1h', '24h', 'none', '0s', '-1h', '876000h', '9999999999h', '1.5h', '10ms', 'forever'),
  email_confirm: fc.boolean(),
  phone_confirm: fc.boolean(),
  password_hash: fc.constantFrom(bcrypt.hashSync(PASSWORD, 4), '$2a$10$short', '$argon2id$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA', '$fbscrypt$v=1,n=99$x$y'),
  should_soft_delete: fc.boolean(),
  friendly_name: fc.constantFrom('phone', 'my key', ''),
  provider_type: fc.constantFrom('oauth2', 'oidc', 'saml'),
  identifier: fc.oneof({ weight: 3, arbitrary: fresh('identifier') }, { weight: 1, arbitrary: fc.constantFrom('custom:fz', 'github', 'custom:UPPER', 'custom:') }),
  name: fc.constantFrom('Fuzz Provider', ''),
  client_id: fc.oneof({ weight: 4, arbitrary: pick('oauthClients', 0) }, { weight: 1, arbitrary: fc.constantFrom('client', '') }),
  client_secret: fc.oneof({ weight: 4, arbitrary: pick('oauthClients', 1) }, { weight: 1, arbitrary: fc.constantFrom('secret', '') }),
  // OAuth server (we are the provider).
  redirect_uri: fc.constantFrom(OAUTH_REDIRECT, OAUTH_REDIRECT, 'https://evil.example/cb', 'http://127.0.0.1:5555/cb', ''),
  redirect_uris: fc.constantFrom([OAUTH_REDIRECT], ['javascript:alert(1)'], [], ['https://a.example/cb#frag'], 'https://a.example/cb'),
  response_type: fc.constantFrom('code', 'code', 'token', 'id_token', ''),
  resource: fc.constantFrom('https://api.example.com', 'https://api.example.com#x', 'https://other.example', 'relative'),
  prompt: fc.constantFrom('consent', 'login', 'none', 'select_account'),
  max_age: fc.constantFrom('0', '60', '-1', 'x'),
  client_name: fc.constantFrom('Fuzz app', '', 'x'.repeat(300)),
  token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'),
  grant_types: fc.constantFrom(['authorization_code', 'refresh_token'], ['client_credentials'], ['implicit'], []),
  action: fc.constantFrom('approve', 'approve', 'deny', 'maybe'),
  token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'id_token'),
  id_token_hint: fc.oneof(pick('idTokens'), fc.constant('a.b.c')),
  post_logout_redirect_uri: fc.constantFrom(OAUTH_REDIRECT, 'https://evil.example/bye'),
  user_id: pick('userIds'),
  require_mfa: fc.boolean(),
  issuer: httpsUrl,
  discovery_url: httpsUrl,
  authorization_url: httpsUrl,
  token_url: httpsUrl,
  userinfo_url: httpsUrl,
  jwks_uri: httpsUrl,
  scopes: fc.constantFrom(['openid', 'email'], ['openid'], 'openid email', 'repo', ['']),
  acceptable_client_ids: fc.constant(['a', 'b']),
  attribute_mapping: fc.constant({ email: 'mail' }),
  authorization_params: fc.constant({ prompt: 'consent' }),
  enabled: fc.boolean(),
  pkce_enabled: fc.boolean(),
  skip_nonce_check: fc.boolean(),
  client_auth: fc.constantFrom('basic', 'post', 'both', 'both', 'jwt'),
  // Query-only.
  grant_type: fc.constantFrom('password', 'refresh_token', 'pkce', 'id_token', 'password', 'refresh_token', 'authorization_code', ''),
  scope: fc.constantFrom('global', 'local', 'others', 'everything', 'openid email', 'openid email offline_access', 'admin'),
  page: fc.constantFrom('1', '2', '0', '-1', '2147483647', '2147483648', '99999999999', '1e3', 'x'),
  per_page: fc.constantFrom('1', '50', '1000', '0', '2147483647', 'x'),
  filter: fc.oneof(pick('emails'), fc.constantFrom('%', '_', "'", 'fuzz')),
  sort: fc.constantFrom('created_at', 'created_at asc', 'created_at DESC', 'email', 'created_at up', ''),
  query: fc.constantFrom('author:', 'action:login', 'type:account', 'author:fuzz', 'garbage', 'action:%'),
  skip_http_redirect: fc.constantFrom('true', 'false'),
  flow_type: fc.constantFrom('pkce', 'implicit'),
  invite_token: fc.oneof(pick('links', 1), fc.constant('x')),
  state: pick('callbacks', 0),
  code: fc.oneof(pick('callbacks', 1), pick('authCodes')),
  error: fc.constantFrom('access_denied', 'server_error'),
  error_description: hostileString,
};
const KNOWN_KEYS = Object.keys(VALID);

/** A field's valid-ish value (a field the table does not know gets a hostile one). */
const fieldValue = (key: string): fc.Arbitrary<unknown> => VALID[key] ?? hostileValue;

// ---------------------------------------------------------------------------------------------------------------
// Which fields a route reads, so valid-ish requests reach its deep paths; routes not named here get random fields.

type Templates = string[][];
const BODY: Record<string, Templates> = {
  'post /signup': [['email', 'password'], ['email', 'password', 'data'], ['phone', 'password'], ['email', 'password', 'code_challenge', 'code_challenge_method'], []],
  'post /token': [
    ['?grant_type=password', 'email', 'password'], ['?grant_type=refresh_token', 'refresh_token'], ['?grant_type=refresh_token', 'refresh_token'],
    ['?grant_type=pkce', 'auth_code', 'code_verifier'], ['?grant_type=id_token', 'id_token', 'provider', 'nonce', 'link_identity'], ['?grant_type=password', 'phone', 'password'],
  ],
  'post /otp': [['email'], ['phone'], ['email', 'create_user', 'data'], ['email', 'code_challenge', 'code_challenge_method'], ['phone', 'channel']],
  'post /magiclink': [['email'], ['email', 'data', 'code_challenge', 'code_challenge_method']],
  'post /recover': [['email'], ['email', 'code_challenge', 'code_challenge_method']],
  'post /resend': [['type', 'email'], ['type', 'phone']],
  'post /verify': [['type', 'token', 'email'], ['type', 'token_hash'], ['type', 'token', 'phone'], ['type', 'token_hash', 'redirect_to']],
  'put /user': [['data'], ['email'], ['password'], ['password', 'nonce'], ['password', 'current_password'], ['phone'], ['app_metadata'], ['email', 'code_challenge', 'code_challenge_method']],
  'post /invite': [['email'], ['email', 'data']],
  'post /admin/users': [
    ['email', 'password'], ['email', 'password', 'email_confirm'], ['phone', 'phone_confirm', 'password'], ['email', 'password_hash'],
    ['email', 'ban_duration', 'role', 'app_metadata', 'user_metadata'], ['id', 'email', 'aud'],
  ],
  'put /admin/users/:user_id': [['email'], ['ban_duration'], ['password'], ['app_metadata', 'user_metadata'], ['role'], ['email_confirm'], ['phone', 'phone_confirm'], ['password_hash']],
  'delete /admin/users/:user_id': [['should_soft_delete'], []],
  'put /admin/users/:user_id/factors/:factor_id': [['friendly_name'], ['phone']],
  'post /admin/generate_link': [
    ['type=magiclink', 'email', 'data'], ['type=recovery', 'email'], ['type=signup', 'email', 'password'], ['type=invite', 'email'],
    ['type=email_change_current', 'email', 'new_email'], ['type=email_change_new', 'email', 'new_email'], ['type', 'email', 'redirect_to'],
  ],
  'post /admin/custom-providers': [
    ['provider_type=oauth2', 'identifier', 'name=Fuzz', 'client_id=c', 'client_secret=s', 'authorization_url', 'token_url', 'userinfo_url', 'scopes', 'attribute_mapping'],
    ['provider_type=oidc', 'identifier', 'name=Fuzz', 'client_id=c', 'client_secret=s', 'issuer', 'skip_nonce_check', 'client_auth'],
  ],
  'put /admin/custom-providers/:id': [['name'], ['enabled', 'pkce_enabled'], ['scopes', 'attribute_mapping', 'authorization_params'], ['authorization_url', 'jwks_uri'], ['acceptable_client_ids']],
  'post /callback': [['state', 'code'], ['state', 'error', 'error_description']],
  'post /oauth/token': [
    ['grant_type=client_credentials', 'client_id', 'client_secret', 'scope'], ['grant_type=authorization_code', 'code', 'redirect_uri', 'client_id', 'client_secret', 'code_verifier'],
    ['grant_type=authorization_code', 'code', 'redirect_uri', 'client_id', 'code_verifier=' + VERIFIER], ['grant_type=refresh_token', 'refresh_token', 'client_id', 'client_secret', 'scope'],
  ],
  'post /oauth/revoke': [['token', 'client_id', 'client_secret', 'token_type_hint'], ['refresh_token', 'client_id', 'client_secret']],
  'post /oauth/introspect': [['token', 'client_id', 'client_secret'], ['refresh_token', 'client_id', 'client_secret']],
  'post /oauth/clients/register': [['client_name', 'redirect_uris'], ['client_name', 'redirect_uris', 'token_endpoint_auth_method', 'grant_types']],
  'post /admin/oauth/clients': [['client_name', 'redirect_uris'], ['client_name', 'redirect_uris', 'token_endpoint_auth_method', 'grant_types', 'require_mfa']],
  'post /oauth/authorizations/:authorization_id/consent': [['action']],
  'post /admin/oauth/authorizations/:authorization_id/approve': [['email', 'create_user'], ['user_id']],
  'post /oauth/logout': [['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id']],
};
const QUERY: Record<string, Templates> = {
  'post /token': [[], [], ['redirect_to']],
  'get /verify': [['type', 'token', 'redirect_to'], ['type', 'token'], ['type', 'token', 'redirect_to']],
  'get /authorize': [['provider', 'redirect_to'], ['provider', 'code_challenge', 'code_challenge_method', 'skip_http_redirect'], ['provider', 'scopes', 'invite_token']],
  'get /user/identities/authorize': [['provider', 'skip_http_redirect'], ['provider', 'redirect_to']],
  'get /callback': [['state', 'code'], ['state', 'error', 'error_description']],
  'get /admin/users': [['page', 'per_page'], ['filter', 'sort']],
  'get /admin/audit': [['page', 'per_page', 'query']],
  'get /admin/custom-providers': [['type']],
  'post /logout': [['scope']],
  'post /signup': [['redirect_to']],
  'post /invite': [['redirect_to']],
  'get /oauth/authorize': [
    ['client_id', 'redirect_uri', 'response_type=code', 'scope=openid email offline_access', 'state', 'code_challenge=' + CHALLENGE, 'code_challenge_method=S256', 'nonce'],
    ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method'],
    ['client_id', 'redirect_uri', 'response_type=code', 'code_challenge=' + CHALLENGE, 'code_challenge_method=S256', 'resource', 'prompt', 'max_age'],
  ],
  'get /oauth/logout': [['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id']],
};
/** Path parameters by name: mostly an id the server handed out (a factor's user and id from one tuple). */
const PARAM_POOL: Record<string, fc.Arbitrary<Pick>[]> = {
  user_id: [pick('userIds'), pick('factors', 0)],
  identity_id: [pick('identityIds')],
  factor_id: [pick('factors', 1)],
  id: [pick('providerRefs'), pick('userIds')],
  authorization_id: [pick('authorizationIds')],
  client_id: [pick('oauthClients', 0)],
};
/** encodeURIComponent refuses lone surrogates: the wire carries U+FFFD for them (JSON bodies keep them escaped). */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const hostileSegment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '..%2F..%2Fetc%2Fpasswd', '%zz', '%', '%00', '%E0%A4%A', '%F0%9F%98%80', 'null', '0', '-1', 'a'.repeat(300), '%20', 'custom:fz', 'github'),
  hostileString.map((s) => encodeURIComponent(wellFormed(s)).slice(0, 2000)),
);
const paramValue = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    ...(PARAM_POOL[name] ?? []).map((p) => ({ weight: 4, arbitrary: p as fc.Arbitrary<unknown> as fc.Arbitrary<string> })),
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: hostileSegment },
  );

function fieldsArb(templates: Templates | undefined): fc.Arbitrary<[string, unknown][]> {
  const keys: fc.Arbitrary<string[]> = templates
    ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...templates) }, { weight: 1, arbitrary: fc.subarray(KNOWN_KEYS, { maxLength: 4 }) })
    : fc.subarray(KNOWN_KEYS, { maxLength: 4 });
  // A `key=value` entry is a fixed value; `?key=value`, a fixed query parameter that goes with the body's fields
  // (the grant of /token).
  const entry = (k: string): fc.Arbitrary<[string, unknown]> => {
    const [name, value] = k.split('=');
    return value !== undefined ? fc.constant([name!, value]) : fieldValue(k).map((v) => [k, v]);
  };
  // Half the time every field is valid-ish, so a route's deep paths run; else one field is hostile.
  return fc
    .tuple(keys, fc.array(fc.tuple(hostileKey, hostileValue), { maxLength: 2 }), fc.nat(9), hostileValue, fc.nat())
    .chain(([ks, extra, roll, bad, at]) =>
      fc.tuple(...ks.map(entry)).map((entries) => {
        const out = [...entries];
        const i = at % (2 * Math.max(1, out.length));
        if (i < out.length && !out[i]![0].startsWith('?')) out[i] = [out[i]![0], bad];
        return roll === 0 ? [...out, ...extra] : out;
      }),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Requests.

type AuthKind = 'none' | 'matching' | 'user' | 'service_role' | 'anon_key' | 'wrong_key' | 'expired_user' | 'expired_admin' | 'alg_none' | 'ghost_user' | 'bad_sub' | 'garbage' | 'bearer_empty' | 'no_scheme';
type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'huge' };

interface FuzzRequest {
  route: MountedRoute;
  method: string;
  prefix: boolean;
  suffix: string;
  params: Record<string, string>;
  query: [string, unknown][];
  rawQuery: string;
  auth: AuthKind;
  authGarbage: string;
  headers: [string, string][];
  body: Body;
  form: boolean;
  /** Sent to the server with email confirmations on. */
  strict: boolean;
}

const RAW_BODIES = fc.oneof(
  fc.constantFrom(
    '', 'null', 'true', '1', '"str"', '[]', '[{}]', '{', '{"email":', '{"a":1}garbage', '{"email":"a@b.co","email":"b@c.co"}', '{"__proto__":{"admin":true},"email":"a@b.co"}',
    '{"constructor":{"prototype":{"role":"service_role"}}}', '1e999', '{"a":1e999}', '-0', '{"password":1e999}', '\u0000', '{"email":"\\ud800@x.co"}', '{"data":"\\u0000"}',
  ),
  fc.integer({ min: 33, max: 50_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 30, max: 50_000 }).map((n) => `{"data":${'{"a":'.repeat(n)}1${'}'.repeat(n)},"app_metadata":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.string({ maxLength: 60 }),
);

const bodyArb = (key: string): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 70, arbitrary: fieldsArb(BODY[key]).map((entries): Body => ({ kind: 'json', value: Object.fromEntries(entries) })) },
    { weight: 10, arbitrary: hostileValue.map((value): Body => ({ kind: 'json', value })) },
    { weight: 10, arbitrary: RAW_BODIES.map((text): Body => ({ kind: 'raw', text })) },
    { weight: 5, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'huge' }) },
  );

const headerValue = hostileString.map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?').slice(0, 8000));
/** Headers on top of JSON and the 2024-01-01 API version; a body-breaking Content-Type or -Encoding is rarer. */
const extraHeaders: fc.Arbitrary<[string, string][]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.tuple(fc.constant('x-jwt-aud'), fc.oneof(fc.constantFrom('authenticated', 'authenticated', 'other-app', 'x'.repeat(300)), headerValue)) },
        { weight: 3, arbitrary: fc.tuple(fc.constant('x-supabase-api-version'), fc.constantFrom('2023-01-01', '2024-01-01', '9999-99-99', '2024-13-45', 'latest', '')) },
        { weight: 3, arbitrary: fc.tuple(fc.constantFrom('referer', 'redirect_to', 'origin', 'x-forwarded-for', 'sb-forwarded-for', 'user-agent'), fc.oneof(url, headerValue)) },
        { weight: 2, arbitrary: fc.tuple(fc.constant('x-api-key'), fc.oneof(fc.constant(OAUTH_API_KEY), headerValue)) },
        { weight: 2, arbitrary: fc.tuple(fc.constant('content-type'), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'garbage', '')) },
        { weight: 1, arbitrary: fc.tuple(fc.constant('content-encoding'), fc.constantFrom('identity', 'gzip', 'br', 'x-unknown')) },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  },
);

const AUTH_KINDS: AuthKind[] = ['none', 'user', 'service_role', 'anon_key', 'wrong_key', 'expired_user', 'expired_admin', 'alg_none', 'ghost_user', 'bad_sub', 'garbage', 'bearer_empty', 'no_scheme'];

function requestArb(routes: MountedRoute[]): fc.Arbitrary<FuzzRequest> {
  const methods = [...new Set(routes.map((r) => r.method))];
  return fc.constantFrom(...routes).chain((route) => {
    const key = `${route.method} ${route.path}`;
    const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    return fc.record({
      route: fc.constant(route),
      method: fc.oneof({ weight: 19, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...methods) }),
      prefix: fc.boolean(), // half the requests under /auth/v1
      suffix: fc.oneof({ weight: 30, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/x', '/..', '/%2e%2e/admin/users', '.json') }),
      params: fc.tuple(...names.map((n) => paramValue(n))).map((vs) => Object.fromEntries(names.map((n, i) => [n, vs[i]!]))),
      query: fc.oneof({ weight: 4, arbitrary: fieldsArb(QUERY[key]) }, { weight: 1, arbitrary: fc.constant<[string, unknown][]>([]) }),
      rawQuery: fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('%zz=1', 'a=%E0%A4%A', 'a[b]=1', 'a=1&a=2&a=3', '=', '&&&', 'redirect_to=%00') }),
      auth: fc.oneof({ weight: 12, arbitrary: fc.constant<AuthKind>('matching') }, { weight: 6, arbitrary: fc.constantFrom(...AUTH_KINDS) }),
      authGarbage: headerValue,
      headers: extraHeaders,
      body: route.method === 'get' ? fc.oneof({ weight: 8, arbitrary: fc.constant<Body>({ kind: 'none' }) }, { weight: 1, arbitrary: bodyArb(key) }) : bodyArb(key),
      form: fc.nat(route.path === '/callback' ? 2 : 30).map((n) => n === 0),
      strict: fc.nat(9).map((n) => n < 3),
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Sending.

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * One request over a keep-alive connection. A reset on a reused connection (the server closed it as the request
 * left) is retried once on a new one, as Node's docs advise: that is the transport, not the server's answer.
 */
async function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer, base = server.url): Promise<Reply> {
  try {
    return await sendOnce(method, path, headers, body, base, agent);
  } catch (err) {
    if ((err as { reused?: boolean }).reused !== true) throw err;
    return sendOnce(method, path, headers, body, base, undefined);
  }
}

function sendOnce(method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined, base: string, via: Agent | undefined): Promise<Reply> {
  const { hostname, port } = new URL(base);
  // Node's client frames a GET or DELETE body only when told its length.
  if (body !== undefined) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest({ host: hostname, port, method: method.toUpperCase(), path, headers, agent: via ?? false, timeout: HANG_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${HANG_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reused: req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up') })));
    req.end(body);
  });
}

/** The signed-in user 'user' requests carry; replaced when a reply says it is gone (logged out, deleted, banned). */
let session: { token: string; claims: Record<string, unknown> } | undefined;

async function currentSession(): Promise<{ token: string; claims: Record<string, unknown> }> {
  if (session) return session;
  const email = uniqueEmail('fuzz-session');
  const r = await send('post', '/signup', { 'content-type': 'application/json' }, JSON.stringify({ email, password: PASSWORD }));
  if (r.status !== 200) throw new Error(`sign-up for a session failed: ${r.status} ${r.text}`);
  const body = JSON.parse(r.text) as { access_token: string };
  harvest(body);
  session = { token: body.access_token, claims: JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> };
  return session;
}

const ADMIN_PATH = /^\/(admin|invite)/;
const USER_PATH = /^\/(user|logout|reauthenticate)/;

async function authorization(req: FuzzRequest): Promise<string | undefined> {
  const now = Math.floor(Date.now() / 1000);
  const deps = server.deps;
  let kind = req.auth;
  if (kind === 'matching') kind = ADMIN_PATH.test(req.route.path) ? 'service_role' : USER_PATH.test(req.route.path) ? 'user' : req.authGarbage.length % 3 === 0 ? 'user' : 'none';
  const bearer = (t: string) => `Bearer ${t}`;
  switch (kind) {
    case 'none':
      return undefined;
    case 'user':
      return bearer((await currentSession()).token);
    case 'service_role':
      return bearer(serviceRoleJwt(deps));
    case 'anon_key':
      return bearer(apiKeyJwt(deps, 'anon'));
    case 'wrong_key':
      return bearer(jwt.sign({ role: 'service_role', iat: now, exp: now + 3600 }, OTHER_SECRET));
    case 'expired_user':
      return bearer(jwt.sign({ ...(await currentSession()).claims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET));
    case 'expired_admin':
      return bearer(jwt.sign({ role: 'service_role', iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET));
    case 'alg_none':
      return bearer(unsignedJwt({ role: 'service_role', sub: randomUUID(), exp: now + 3600 }));
    case 'ghost_user':
      return bearer(forgeJwt({ sub: randomUUID(), session_id: randomUUID(), role: 'authenticated', aud: 'authenticated', exp: now + 3600 }));
    case 'bad_sub':
      return bearer(forgeJwt({ sub: req.authGarbage, session_id: req.authGarbage, role: 'authenticated', aud: ['authenticated', 7], exp: now + 3600 }));
    case 'garbage':
      return req.authGarbage;
    case 'bearer_empty':
      return 'Bearer ';
    case 'no_scheme':
      return serviceRoleJwt(deps);
  }
}

const enc = (v: unknown) => encodeURIComponent(wellFormed(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)));

async function build(req: FuzzRequest) {
  const auth = await authorization(req);
  // From here on nothing awaits: `tuples` belongs to this request alone.
  tuples = new Map();
  let path = req.route.path.replace(/:(\w+)/g, (_m, n: string) => String(resolve(req.params[n])));
  path = `${req.prefix ? '/auth/v1' : ''}${path}${req.suffix}`;
  const fixed = req.body.kind === 'json' && req.body.value && typeof req.body.value === 'object' ? Object.entries(req.body.value).filter(([k]) => k.startsWith('?')) : [];
  const query = [...fixed.map(([k, v]): [string, unknown] => [k.slice(1), v]), ...req.query].map(([k, v]) => {
    const value = resolve(v);
    return Array.isArray(value) ? value.map((x) => `${enc(k)}=${enc(x)}`).join('&') : `${enc(k)}=${enc(value)}`;
  });
  if (req.rawQuery) query.push(req.rawQuery);
  // Node refuses to send a path with spaces or characters outside Latin-1: percent-encode those.
  path = `${path}${query.length ? `?${query.join('&')}` : ''}`.replace(/[^\u0021-\u00ff]/g, (c) => encodeURIComponent(c));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' };
  if (auth !== undefined) headers.authorization = auth;
  for (const [k, v] of req.headers) headers[k] = v;
  let body: string | undefined;
  if (req.body.kind === 'json') {
    const raw = req.body.value;
    const value = resolve(raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('?'))) : raw);
    body =
      req.form && value && typeof value === 'object' && !Array.isArray(value)
        ? new URLSearchParams(Object.entries(value).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString()
        : JSON.stringify(value);
    if (req.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (req.body.kind === 'raw') body = req.body.text;
  else if (req.body.kind === 'huge') body = JSON.stringify({ email: 'a@b.co', data: { blob: 'x'.repeat(1_100_000) } });
  return { method: req.method, path, headers, body };
}

// ---------------------------------------------------------------------------------------------------------------
// Judging and harvesting.

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Why this reply breaks the contract, or undefined when it keeps it. */
function verdict(r: Reply): string | undefined {
  if (r.status >= 500) return `${r.status}`;
  if (r.status >= 300 && r.status < 400) {
    const location = String(r.headers.location ?? '');
    let u: URL;
    try {
      u = new URL(location, 'http://base.invalid');
    } catch {
      return `redirect to an unparsable Location ${location}`;
    }
    const params = [u.searchParams, new URLSearchParams(u.hash.slice(1))];
    for (const p of params) {
      // An OAuth authorization error response (RFC 6749 §4.1.2.1) names its issuer (RFC 9207) instead of a GoTrue code.
      const oauthResponse = p.has('iss') && p.has('error') && !p.has('error_code');
      if (oauthResponse && p.get('error') === 'server_error') return 'an OAuth redirect carrying server_error (a hidden 500)';
      if ((p.has('error') || p.has('error_description')) && !p.get('error_code') && !oauthResponse) return 'a redirect with an error but no error_code';
      if (p.get('error_code') === 'unexpected_failure') return 'a redirect carrying unexpected_failure (a hidden 500)';
    }
    return undefined;
  }
  if (r.status < 400) return undefined;
  if (!String(r.headers['content-type'] ?? '').includes('application/json')) return `${r.status} not JSON (${String(r.headers['content-type'])})`;
  const body = parseJson(r.text) as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return `${r.status} body does not parse`;
  if (!r.headers['x-sb-error-code']) return `${r.status} without x-sb-error-code`;
  const code = body.error_code ?? body.code ?? body.error;
  if (typeof code !== 'string' || code === '') return `${r.status} without an error_code`;
  return undefined;
}

/** Takes what the server handed out into the pools. */
function harvest(value: unknown, depth = 0): void {
  if (depth > 6 || !value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value.slice(0, 60)) harvest(v, depth + 1);
    return;
  }
  const o = value as Record<string, unknown>;
  remember('refreshTokens', o.refresh_token);
  if (typeof o.hashed_token === 'string') remember('links', `${String(o.verification_type)} ${o.hashed_token} ${String(o.email_otp)} ${String(o.email)}`);
  if (typeof o.identifier === 'string' && typeof o.provider_type === 'string') {
    remember('providerRefs', o.id);
    remember('providerRefs', o.identifier);
  }
  if (typeof o.aud === 'string' && typeof o.id === 'string' && 'app_metadata' in o) {
    remember('userIds', o.id);
    remember('emails', o.email);
    remember('phones', o.phone);
  }
  if (typeof o.identity_id === 'string') remember('identityIds', o.identity_id);
  if (typeof o.client_id === 'string' && Array.isArray(o.redirect_uris)) remember('oauthClients', `${o.client_id} ${typeof o.client_secret === 'string' ? o.client_secret : ''}`);
  if (typeof o.authorization_id === 'string') remember('authorizationIds', o.authorization_id);
  remember('idTokens', o.id_token);
  remember('refreshTokens', o.refresh_token);
  for (const v of Object.values(o)) if (v && typeof v === 'object') harvest(v, depth + 1);
}

async function harvestLocation(location: string): Promise<void> {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    return;
  }
  remember('authCodes', u.searchParams.get('code'));
  remember('authorizationIds', u.searchParams.get('authorization_id'));
  const fragment = new URLSearchParams(u.hash.slice(1));
  remember('refreshTokens', fragment.get('refresh_token'));
  // An authorization at the GitHub stand-in: let it log in and keep the state and code it sends back.
  if (location.startsWith(gh.url) && pools.callbacks.length < POOL_CAP) {
    const back = await fetch(location, { redirect: 'manual' });
    const cb = new URL(back.headers.get('location') ?? '', 'http://base.invalid');
    const state = cb.searchParams.get('state');
    const code = cb.searchParams.get('code');
    if (state && code) remember('callbacks', `${state} ${code}`);
  }
}

let smsSeen = 0;
let mailSeen = 0;
/** OTPs texted, and the links and codes mailed by the server with confirmations on. */
function harvestMessages(): void {
  for (const m of sms.sent.slice(smsSeen)) for (const otp of m.body.match(/\b\d{6}\b/g) ?? []) remember('otps', otp);
  smsSeen = sms.sent.length;
  for (const m of strict.mail.mails.slice(mailSeen)) {
    const link = m.link ? new URL(m.link, 'http://base.invalid') : undefined;
    const token = link?.searchParams.get('token');
    if (token) remember('links', `${link?.searchParams.get('type') ?? 'signup'} ${token} ${m.otp ?? ''} ${m.to[0] ?? ''}`);
    remember('otps', m.otp);
  }
  mailSeen = strict.mail.mails.length;
}

// ---------------------------------------------------------------------------------------------------------------

describe(`property: hostile input on every route never reaches a 5xx (${dbKind})`, () => {
  let routes: MountedRoute[];

  beforeAll(async () => {
    routes = listRoutes(server.deps);
    // A few users with what deep paths need: an identity, a factor, a custom provider, link tokens.
    for (let i = 0; i < 3; i++) {
      await currentSession();
      session = undefined;
    }
    const admin = { 'content-type': 'application/json', authorization: `Bearer ${serviceRoleJwt(server.deps)}` };
    for (const id of pools.userIds.slice(0, 3)) {
      remember('factors', `${id} ${await insertFactor(server.db, id, { name: 'fuzz' })}`);
      remember('factors', `${id} ${await insertFactor(server.db, id, { type: 'phone', phone: uniquePhone(), status: 'unverified' })}`);
    }
    for (const type of ['magiclink', 'recovery', 'invite', 'signup']) {
      const r = await send('post', '/admin/generate_link', admin, JSON.stringify({ type, email: type === 'invite' || type === 'signup' ? uniqueEmail('fuzz') : pools.emails[0], password: PASSWORD }));
      harvest(parseJson(r.text));
    }
    const p = await send(
      'post',
      '/admin/custom-providers',
      admin,
      JSON.stringify({ provider_type: 'oauth2', identifier: 'custom:fz', name: 'Fuzz', client_id: 'c', client_secret: 's', authorization_url: `${gh.url}/login/oauth/authorize`, token_url: 'http://127.0.0.1:1/t', userinfo_url: 'http://127.0.0.1:1/u' }),
    );
    harvest(parseJson(p.text));
    // OAuth clients (a confidential and a public one) and a pending authorization request of each.
    for (const body of [{ client_name: 'Fuzz RP', redirect_uris: [OAUTH_REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] }, { client_name: 'Fuzz SPA', redirect_uris: [OAUTH_REDIRECT], client_type: 'public' }]) {
      const c = await send('post', '/admin/oauth/clients', admin, JSON.stringify(body));
      expect(c.status).toBe(201);
      harvest(parseJson(c.text));
    }
    for (const entry of pools.oauthClients.slice(0, 2)) {
      const q = new URLSearchParams({ client_id: entry.split(' ')[0]!, redirect_uri: OAUTH_REDIRECT, response_type: 'code', scope: 'openid email offline_access', state: 's', code_challenge: CHALLENGE, code_challenge_method: 'S256' });
      const r = await send('get', `/oauth/authorize?${q}`, {}, undefined);
      expect(r.status).toBe(302);
      await harvestLocation(String(r.headers.location));
    }
    expect(pools.authorizationIds.length).toBe(2);
  });

  it(`${RUNS} requests: every reply is a 2xx/3xx or a 4xx JSON error with an error_code (seed ${SEED})`, { timeout: 1_200_000 }, async () => {
    expect(routes.length).toBeGreaterThanOrEqual(38);
    expect(routes).toContainEqual({ method: 'post', path: '/token' });
    const requests = fc.sample(requestArb(routes), { seed: SEED, numRuns: RUNS });
    const failures = new Map<string, string>();
    const byRoute = new Map<string, { ok: number; client: number }>();
    /** With FC_VERBOSE: replies by route, status and error code, to see which paths the run reaches. */
    const codes = new Map<string, number>();
    const slow: [number, string][] = [];
    const started = Date.now();

    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const req = requests[next++]!;
        const wire = await build(req);
        const usedSession = req.auth === 'user' || req.auth === 'matching' ? session?.token : undefined;
        let reply: Reply;
        const t0 = performance.now();
        try {
          reply = await send(wire.method, wire.path, wire.headers, wire.body, req.strict ? strict.url : server.url);
        } catch (err) {
          reply = { status: 599, headers: {}, text: String(err) };
        }
        const why = verdict(reply);
        const key = `${req.route.method} ${req.route.path}`;
        const tally = byRoute.get(key) ?? { ok: 0, client: 0 };
        if (reply.status < 400) tally.ok++;
        else tally.client++;
        if (process.env.FC_VERBOSE) {
          const c = (parseJson(reply.text) as { code?: unknown } | undefined)?.code;
          const k = `${key} ${reply.status} ${String(reply.headers['x-sb-error-code'] ?? c ?? '')}`;
          codes.set(k, (codes.get(k) ?? 0) + 1);
          slow.push([performance.now() - t0, `${k} path ${wire.path.length} body ${wire.body?.length ?? 0} ${req.body.kind}`]);
        }
        byRoute.set(key, tally);
        if (why !== undefined) {
          const body = wire.body === undefined ? '' : wire.body.length > 600 ? `${wire.body.slice(0, 600)}… (${wire.body.length} chars)` : wire.body;
          const id = `${key} → ${why}`;
          if (!failures.has(id)) failures.set(id, `${wire.method.toUpperCase()} ${wire.path.slice(0, 600)}\n  headers ${JSON.stringify(wire.headers).slice(0, 600)}\n  body ${body}\n  reply ${reply.status} ${reply.text.slice(0, 400)}`);
          continue;
        }
        // The signed-in user is gone (logged out, deleted, banned, signed out elsewhere): sign another in.
        if (usedSession && usedSession === session?.token && (reply.status === 401 || reply.status === 403 || (wire.path.includes('/logout') && reply.status === 204))) session = undefined;
        if (reply.status < 400) {
          harvest(parseJson(reply.text));
          if (typeof reply.headers.location === 'string') await harvestLocation(reply.headers.location);
          const replied = parseJson(reply.text) as { url?: unknown; redirect_url?: unknown; redirect_uri?: unknown } | undefined;
          for (const u of [replied?.url, replied?.redirect_url, replied?.redirect_uri]) if (typeof u === 'string') await harvestLocation(u);
          harvestMessages();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const reached = [...byRoute.entries()].map(([k, t]) => `${k} ${t.ok}/${t.ok + t.client}`).join(', ');
    console.log(`[property-hostile-input] ${dbKind}: ${requests.length} requests in ${seconds} s, seed ${SEED}; successes per route: ${reached}`);
    if (process.env.FC_VERBOSE) console.log(slow.sort((a, b) => b[0] - a[0]).slice(0, 40).map(([ms, k]) => `${ms.toFixed(0)} ms ${k}`).join('\n'), slow.reduce((a, [ms]) => a + ms, 0));
    if (process.env.FC_VERBOSE) console.log([...codes.entries()].sort().map(([k, n]) => `${k} ×${n}`).join('\n'));
    if (failures.size > 0) console.error(`[property-hostile-input] seed ${SEED} (replay with FC_SEED=${SEED}):\n${[...failures.entries()].map(([id, d]) => `${id}\n  ${d}`).join('\n\n')}`);
    expect([...failures.keys()], `seed ${SEED}: replay with FC_SEED=${SEED}`).toEqual([]);
    // Every route was asked, under the table's own paths.
    for (const r of routes) expect(byRoute.has(`${r.method} ${r.path}`), `${r.method} ${r.path}`).toBe(true);
  });
});
