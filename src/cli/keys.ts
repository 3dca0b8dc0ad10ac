import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The algorithms `./gotrue keys generate` makes keys for. */
export const GENERATED_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type GeneratedAlgorithm = (typeof GENERATED_ALGORITHMS)[number];

export const KEYS_GENERATE_HELP = `Usage: gotrue keys generate --alg ES256|RS256|EdDSA

Prints a new private signing key as a JWK (kid, alg, key_ops ["sign","verify"]) on stdout. Put it in the
GOTRUE_JWT_KEYS array; when rotating, give the previous signing key key_ops ["verify"] (see README, Signing keys).
The output is a secret: store it as you store GOTRUE_JWT_SECRET.`;

/** A new private JWK ready for GOTRUE_JWT_KEYS: P-256, 2048-bit RSA or Ed25519, with a random kid. */
export function generateSigningJwk(alg: GeneratedAlgorithm): JsonWebKey & { kid: string; alg: string; use: 'sig'; key_ops: string[] } {
  let privateKey: KeyObject;
  if (alg === 'ES256') privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  else if (alg === 'RS256') privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  else privateKey = generateKeyPairSync('ed25519').privateKey;
  return { kid: randomUUID(), alg, use: 'sig', key_ops: ['sign', 'verify'], ...privateKey.export({ format: 'jwk' }) };
}

/** `./gotrue keys generate --alg X` (or `--alg=X`): prints the JWK and returns the exit code. */
export function keysGenerate(args: string[]): number {
  const eq = args.find((a) => a.startsWith('--alg='));
  const at = args.indexOf('--alg');
  const alg = eq ? eq.slice('--alg='.length) : at >= 0 ? args[at + 1] : undefined;
  if (!(GENERATED_ALGORITHMS as readonly (string | undefined)[]).includes(alg)) {
    process.stderr.write(`gotrue keys generate: ${alg === undefined ? '--alg is required' : `unsupported --alg "${alg}"`}\n\n${KEYS_GENERATE_HELP}\n`);
    return 2;
  }
  console.log(JSON.stringify(generateSigningJwk(alg as GeneratedAlgorithm)));
  return 0;
}
