import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config';
import { systemClock } from '../crypto/clock';
import { createSigner, type Signer } from '../crypto/signer';

/** Where the embedded default keeps its generated JWT secret. */
export const secretFile = (config: Config) => join(resolve(config.db.dataDir), 'jwt-secret');

/**
 * Resolves the JWT secret. Configured → used as is. Embedded with none configured → read from the data folder,
 * or generated there on first run (mode 0600) so restarts keep sessions valid.
 */
export function resolveSecret(config: Config): { config: Config; generated: boolean; fromFile: boolean } {
  if (config.jwt.secret) return { config, generated: false, fromFile: false };
  const file = secretFile(config);
  let generated = false;
  if (!existsSync(file)) {
    mkdirSync(resolve(config.db.dataDir), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    generated = true;
  }
  const secret = readSecretFile(file);
  return { config: { ...config, jwt: { ...config.jwt, secret } }, generated, fromFile: true };
}

/**
 * The secret kept in the data folder. An empty or truncated file (a full disk, a bad copy) is refused with one line
 * naming the file and the ways out, rather than signing with a weak secret or failing deep inside the signer.
 */
function readSecretFile(file: string): string {
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new Error(
      `the embedded JWT secret ${file} is ${secret ? 'shorter than 32 characters' : 'empty'}: restore it from a backup, ` +
        `or delete it to generate a new one (tokens and API keys made with the old one stop working), or set GOTRUE_JWT_SECRET`,
    );
  }
  return secret;
}

/** `./gotrue keys` found nothing to sign with. The message is one line naming where it looked. */
export class NoSigningKeyError extends Error {}

/**
 * The signer `./gotrue keys` uses: the one serve builds from the same configuration, except that keys never
 * creates a secret. A GOTRUE_JWT_KEYS key with "sign" signs (no secret needed); else GOTRUE_JWT_SECRET; else, on
 * the embedded database, the secret serve generated in the data folder. No such file → NoSigningKeyError naming
 * the absolute folder: printing keys for a new secret would print keys the running server rejects.
 */
export function keysSigner(config: Config): Signer {
  if (config.jwt.secret) return signerFor(config);
  if (config.jwt.keys.some((k) => k.sign)) {
    // The secret only verifies HS256 tokens no key claims; keys only signs, so a throwaway one changes nothing.
    return signerFor({ ...config, jwt: { ...config.jwt, secret: randomBytes(32).toString('base64url') } });
  }
  const file = secretFile(config);
  if (config.db.url || !existsSync(file)) {
    throw new NoSigningKeyError(
      `no embedded database at ${resolve(config.db.dataDir)} (no jwt-secret there) and no GOTRUE_JWT_SECRET; keys never creates a secret: ` +
        `run it where ./gotrue serve runs, or set GOTRUE_DB_DATA_DIR to serve's data folder, or GOTRUE_JWT_SECRET / GOTRUE_JWT_KEYS as serve has them`,
    );
  }
  return signerFor({ ...config, jwt: { ...config.jwt, secret: readSecretFile(file) } });
}

/** The server's signer for a config whose secret is resolved (resolveSecret). */
export function signerFor(config: Config): Signer {
  if (!config.jwt.secret) throw new Error('signerFor: the JWT secret must be resolved first');
  return createSigner({ ...config.jwt, secret: config.jwt.secret }, systemClock);
}

/**
 * The anon and service_role API keys (ten years), as Supabase issues them, signed by the signing key: the HS256
 * secret by default, the GOTRUE_JWT_KEYS key with "sign" in its key_ops when one is configured.
 */
export async function apiKeys(signer: Pick<Signer, 'sign'>): Promise<{ anon: string; serviceRole: string }> {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + 10 * 365 * 24 * 3600;
  return {
    anon: await signer.sign({ iss: 'gotrue', role: 'anon', iat, exp }),
    serviceRole: await signer.sign({ iss: 'gotrue', role: 'service_role', iat, exp }),
  };
}

/** The first-run banner: keys and a supabase-js line. Printed to stderr for a person, not to the JSON log. */
export async function keysBanner(config: Config): Promise<string> {
  const { anon, serviceRole } = await apiKeys(signerFor(config));
  const url = config.api.externalUrl.replace(/\/$/, '');
  return [
    '',
    '  gotrue: embedded database, first run. Your API keys (kept valid across restarts; see ./gotrue keys):',
    '',
    `  anon key:          ${anon}`,
    `  service_role key:  ${serviceRole}   (secret: server-side only)`,
    '',
    `  supabase-js:  const supabase = createClient('${url}', '${anon}')`,
    '',
  ].join('\n');
}
