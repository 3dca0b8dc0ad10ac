export type JwtClaims = Record<string, unknown> & { exp?: number; iat?: number; sub?: string; role?: string };

/** Why a token was refused; the message is safe to send. */
export class JwtError extends Error {}

/** A compact JWS's decoded header, or undefined when it is not a JSON object (unverified: read it only to route). */
export function headerOf(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const h: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof h === 'object' && h !== null && !Array.isArray(h) ? (h as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
