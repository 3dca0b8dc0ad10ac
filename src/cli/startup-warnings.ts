import type { Config } from '../config';

/**
 * JWT secrets published in documentation and sample files: anyone can sign tokens (service_role included) for a
 * server that uses one. Compared exactly, after trimming.
 */
export const PLACEHOLDER_JWT_SECRETS: readonly string[] = [
  // this project's docker-compose.yml
  'change-me-to-a-long-random-secret-of-32-bytes-or-more',
  // Supabase's documentation and CLI default
  'super-secret-jwt-token-with-at-least-32-characters-long',
  // Supabase's self-hosting .env.example
  'your-super-secret-jwt-token-with-at-least-32-characters-long',
  // GoTrue's example.env
  'CHANGE-THIS! VERY IMPORTANT!',
];

/** Words that mark a value someone was meant to replace. */
const PLACEHOLDER_WORDS = /change[-_ .]?(me|this)|replace[-_ .]?me|placeholder|your[-_ .]?(own[-_ .]?)?secret|^secret$|example/i;

/** A credential bucket (per client, per window) at or above this lets a client guess passwords and codes at will. */
export const EFFECTIVELY_UNLIMITED = 100_000;

/**
 * Configurations that start but are probably not what the operator wants: one sentence each, naming the setting
 * and the fix. Pure over Config, so every rule is unit-tested; serve logs each at warn before it listens.
 *
 * Rate limits count as effectively off when
 * - the store is `memory` with several workers: each worker counts apart, so every limit is multiplied by
 *   GOTRUE_WORKERS, and by the instance count behind a load balancer;
 * - a credential bucket (GOTRUE_RATE_LIMIT_TOKEN_REFRESH: every /token grant, password included;
 *   GOTRUE_RATE_LIMIT_VERIFY: OTP and link verification; GOTRUE_RATE_LIMIT_OTP: sign-ups and OTP sends) allows
 *   EFFECTIVELY_UNLIMITED or more requests per client per window.
 */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const secret = config.jwt.secret;
  if (secret !== undefined) {
    const s = secret.trim();
    if (PLACEHOLDER_JWT_SECRETS.includes(s) || PLACEHOLDER_WORDS.test(s)) {
      warnings.push(
        'GOTRUE_JWT_SECRET is a published placeholder: anyone can sign tokens for this server, service_role included. Set it to a random secret (openssl rand -base64 48) and print new API keys with ./gotrue keys',
      );
    } else if (Buffer.byteLength(s) < 32) {
      warnings.push('GOTRUE_JWT_SECRET is shorter than 32 bytes: set it to a random secret of 32 bytes or more (openssl rand -base64 48)');
    } else if (new Set(s).size < 8) {
      warnings.push('GOTRUE_JWT_SECRET uses fewer than 8 distinct characters, so it is guessable: set it to a random secret (openssl rand -base64 48)');
    }
  }

  const emailSignups = config.external.email.enabled && !config.disableSignup;
  if (config.db.url && !config.smtp.host && !config.mailer.autoconfirm && emailSignups) {
    warnings.push(
      'GOTRUE_SMTP_HOST is not set on Postgres and GOTRUE_MAILER_AUTOCONFIRM is off: confirmation, recovery and magic-link mail is dropped, so email sign-ups can never be confirmed. Set GOTRUE_SMTP_HOST (and GOTRUE_SMTP_PORT, _USER, _PASS), or GOTRUE_MAILER_AUTOCONFIRM=true',
    );
  }

  const rl = config.rateLimit;
  if (rl.store === 'memory' && config.api.workers > 1) {
    warnings.push(
      `GOTRUE_RATE_LIMIT_STORE is memory with GOTRUE_WORKERS=${config.api.workers}: each worker counts apart, so every rate limit is ${config.api.workers} times looser. Use GOTRUE_RATE_LIMIT_STORE=postgres or redis`,
    );
  }
  const loose = (
    [
      ['GOTRUE_RATE_LIMIT_TOKEN_REFRESH', rl.tokenRefresh],
      ['GOTRUE_RATE_LIMIT_VERIFY', rl.verify],
      ['GOTRUE_RATE_LIMIT_OTP', rl.otp],
    ] as const
  ).filter(([, n]) => n >= EFFECTIVELY_UNLIMITED);
  if (loose.length > 0) {
    warnings.push(
      `rate limits are effectively off: ${loose.map(([k, n]) => `${k}=${n}`).join(', ')} per client per 5 minutes lets a client guess passwords and codes at will. Keep them near the defaults (150, 30, 30)`,
    );
  }
  // Approve by API (issue 15): the key approves sign-ins for any user, so it must not be guessable.
  const apiKey = config.oauthServer.apiKey.trim();
  if (config.oauthServer.enabled && apiKey !== '' && (Buffer.byteLength(apiKey) < 32 || PLACEHOLDER_WORDS.test(apiKey))) {
    warnings.push('GOTRUE_OAUTH_SERVER_API_KEY is shorter than 32 bytes or a placeholder: it approves sign-ins for any user. Set it to a random key (openssl rand -base64 48)');
  }
  // Hosted pages (issue 15): they only stand in for the app's consent page, so say when they cannot be reached.
  const o = config.oauthServer;
  if (o.hostedPagesEnabled && (!o.enabled || o.authorizationPath)) {
    const why = !o.enabled ? 'GOTRUE_OAUTH_SERVER_ENABLED is off' : `GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH is set (${o.authorizationPath.slice(0, 64)})`;
    warnings.push(`GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED is ignored: ${why}, so /oauth/pages answers 404. Unset AUTHORIZATION_PATH to use them`);
  }
  // MCP (issue 15): the testing-only origins lift the SSRF guard for the documents they serve.
  const insecure = config.oauthServer.cimd.testingOnlyInsecureOrigins;
  if (insecure.length > 0) {
    warnings.push(
      `GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS is set (${insecure.join(', ')}): client metadata documents from these origins are fetched over plain http and from any address, private ones included. This is for tests only: unset it in production`,
    );
  }
  return warnings;
}
