export type JwtClaims = Record<string, unknown> & { exp?: number; iat?: number; sub?: string; role?: string };

/** Why a token was refused; the message is safe to send. */
export class JwtError extends Error {}
