import { createHash, timingSafeEqual } from 'node:crypto';

/** PKCE (RFC 7636) as GoTrue applies it: contract §6.2. */
export type CodeChallengeMethod = 's256' | 'plain';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** A code verifier is 43–128 characters of the unreserved set. */
export const isValidCodeVerifier = (v: string): boolean => VERIFIER.test(v);

/** GoTrue accepts the method in any case ("S256", "s256", "plain"); anything else is undefined. */
export function parseCodeChallengeMethod(m: string): CodeChallengeMethod | undefined {
  const lower = m.toLowerCase();
  return lower === 's256' || lower === 'plain' ? lower : undefined;
}

/** base64url(SHA-256(verifier)) without padding: the S256 challenge of a verifier. */
export const s256Challenge = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/** True when the verifier answers the stored challenge. Constant-time in the challenge's content. */
export function verifyCodeChallenge(verifier: string, challenge: string, method: CodeChallengeMethod): boolean {
  const expected = Buffer.from(challenge);
  const actual = Buffer.from(method === 's256' ? s256Challenge(verifier) : verifier);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** What flow_state.auth_code holds: the code's SHA-256, so a copy of the table cannot redeem codes. */
export const hashAuthCode = (code: string): string => createHash('sha256').update(code).digest('hex');
