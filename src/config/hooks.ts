import { parseGoBool } from './parsers';

/** GoTrue's seven auth hooks (HookConfiguration), by the name their settings use. */
export const HOOK_KINDS = [
  'custom_access_token',
  'send_email',
  'send_sms',
  'mfa_verification_attempt',
  'password_verification_attempt',
  'before_user_created',
  'after_user_created',
] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

/** Where a hook runs: an HTTP(S) endpoint signed with Standard Webhooks, or a Postgres function. */
export type HookTarget =
  | { transport: 'http'; uri: string; secrets: string[] }
  | { transport: 'pg-functions'; uri: string; schema: string; name: string };

/** An enabled hook; a kind that is off is absent from `HooksConfig`. */
export type HookConfig = HookTarget;
export type HooksConfig = Partial<Record<HookKind, HookConfig>>;

/** GoTrue's postgresNamesRegexp. */
const PG_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
/** GoTrue's symmetricSecretFormat; its asymmetric `v1a,whpk_…` form is refused (GoTrue cannot sign with it either). */
const SYMMETRIC_SECRET = /^v1,whsec_[A-Za-z0-9+/=]{32,88}$/;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1', 'host.docker.internal']);

export const hookEnvKey = (kind: HookKind, field: 'ENABLED' | 'URI' | 'SECRETS') => `GOTRUE_HOOK_${kind.toUpperCase()}_${field}`;

/**
 * GOTRUE_HOOK_<KIND>_ENABLED, _URI, _SECRETS for each kind. As GoTrue's ValidateExtensibilityPoint, a URI is
 * validated whenever it is set (enabled or not): `https://…`, `http://` only to localhost, 127.0.0.1, ::1 or
 * host.docker.internal, or `pg-functions://<db>/<schema>/<function>` with Postgres-safe names; secrets are
 * `v1,whsec_<base64>` separated by `|`. An enabled hook needs a URI. Returns the enabled hooks and the problems.
 */
export function parseHooks(env: Record<string, string | undefined>): { hooks: HooksConfig; problems: string[] } {
  const hooks: HooksConfig = {};
  const problems: string[] = [];
  for (const kind of HOOK_KINDS) {
    const get = (f: 'ENABLED' | 'URI' | 'SECRETS') => env[hookEnvKey(kind, f)]?.trim() ?? '';
    const enabledText = get('ENABLED');
    const enabled = enabledText === '' ? false : parseGoBool(enabledText);
    if (enabled === undefined) {
      problems.push(`${hookEnvKey(kind, 'ENABLED')}: expected a boolean (true/false/1/0), got "${enabledText}"`);
      continue;
    }
    const uri = get('URI');
    const secrets = get('SECRETS').split('|').map((s) => s.trim()).filter(Boolean);
    if (uri === '') {
      if (enabled) problems.push(`${hookEnvKey(kind, 'URI')}: required when ${hookEnvKey(kind, 'ENABLED')} is true`);
      continue;
    }
    const target = parseTarget(uri, secrets);
    if ('problem' in target) {
      problems.push(`${hookEnvKey(kind, target.key)}: ${target.problem}`);
      continue;
    }
    if (enabled) hooks[kind] = target;
  }
  return { hooks, problems };
}

type Problem = { key: 'URI' | 'SECRETS'; problem: string };
const uriProblem = (problem: string): Problem => ({ key: 'URI', problem });

/** The hook target a URI names, or a one-line problem with the setting it is about. */
function parseTarget(uri: string, secrets: string[]): HookTarget | Problem {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return uriProblem('expected an https://, http://localhost or pg-functions:// URI');
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'pg-functions') {
    const parts = u.pathname.split('/');
    if (parts.length < 3 || parts[1] === '' || parts[2] === '') return uriProblem('expected pg-functions://postgres/<schema>/<function>');
    const [schema, name] = [decodeURIComponent(parts[1]!), decodeURIComponent(parts[2]!)];
    if (!PG_NAME.test(schema)) return uriProblem(`invalid schema name: ${JSON.stringify(schema)}`);
    if (!PG_NAME.test(name)) return uriProblem(`invalid function name: ${JSON.stringify(name)}`);
    return { transport: 'pg-functions', uri, schema, name };
  }
  if (scheme !== 'https' && scheme !== 'http') return uriProblem('only pg-functions:// and HTTPS hooks are supported');
  if (scheme === 'http' && !LOCAL_HOSTS.has(u.hostname.toLowerCase())) return uriProblem('http:// is allowed only to localhost, 127.0.0.1, ::1 and host.docker.internal; use https://');
  if (u.username || u.password) return uriProblem('credentials in the URI are not allowed; sign requests with the _SECRETS setting');
  const bad = secrets.findIndex((s) => !SYMMETRIC_SECRET.test(s));
  if (bad >= 0) return { key: 'SECRETS', problem: `secret ${bad + 1} is not of the form v1,whsec_<base64> (several are separated by |)` };
  return { transport: 'http', uri, secrets };
}
