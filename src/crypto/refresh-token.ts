import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Random } from './clock';

/**
 * Refresh tokens are `selector ‖ mac`: the selector (16 random bytes, base64url) is what the refresh_tokens.token
 * column stores, the mac is HMAC-SHA256(key, selector) cut to 16 bytes. A reader of the database sees only
 * selectors and cannot forge a token; the server can still hand back the active token of a session (the
 * "parent of the active token" rule) because it can recompute any token from its selector.
 * Tokens imported from GoTrue (12-character plaintext) are accepted as their own selector.
 */
export interface RefreshTokenCodec {
  /** A new token and the selector to store. */
  issue(): { token: string; selector: string };
  /** The token whose stored selector this is. */
  tokenFor(selector: string): string;
  /** The selector to look up, or undefined for a token this server cannot have issued. */
  selectorOf(token: string): string | undefined;
}

const SELECTOR_LEN = 22; // base64url of 16 bytes
const LEGACY = /^[a-zA-Z0-9]{12}$/;

export function createRefreshTokenCodec(secret: string, random: Random): RefreshTokenCodec {
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'gotrue-ts refresh token v1', 32));
  const mac = (selector: string) => createHmac('sha256', key).update(selector).digest().subarray(0, 16);
  const tokenFor = (selector: string) => selector + mac(selector).toString('base64url');
  return {
    issue() {
      const selector = random.bytes(16).toString('base64url');
      return { selector, token: tokenFor(selector) };
    },
    tokenFor,
    selectorOf(token) {
      if (LEGACY.test(token)) return token;
      if (token.length !== SELECTOR_LEN * 2 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
      const selector = token.slice(0, SELECTOR_LEN);
      const given = Buffer.from(token.slice(SELECTOR_LEN), 'base64url');
      const expected = mac(selector);
      return given.length === expected.length && timingSafeEqual(given, expected) ? selector : undefined;
    },
  };
}
