import { describe, expect, it } from 'vitest';
import { systemRandom } from '../../src/crypto/clock';
import { createRefreshTokenCodec } from '../../src/crypto/refresh-token';

const codec = createRefreshTokenCodec('a-secret-that-is-long-enough-for-hs256!!', systemRandom);

describe('refresh token codec', () => {
  it('issues a token whose selector it can read back, and recomputes the token from the selector', () => {
    const { token, selector } = codec.issue();
    expect(token).toHaveLength(44);
    expect(codec.selectorOf(token)).toBe(selector);
    expect(codec.tokenFor(selector)).toBe(token);
  });

  it('refuses a stored selector presented as a token (a database reader cannot forge tokens)', () => {
    const { selector } = codec.issue();
    expect(codec.selectorOf(selector)).toBeUndefined();
    expect(codec.selectorOf(selector + 'A'.repeat(22))).toBeUndefined();
  });

  it('refuses a token from another secret and a tampered token', () => {
    const other = createRefreshTokenCodec('another-secret-that-is-long-enough-xx', systemRandom).issue().token;
    expect(codec.selectorOf(other)).toBeUndefined();
    const { token } = codec.issue();
    const flipped = token.slice(0, 30) + (token[30] === 'a' ? 'b' : 'a') + token.slice(31);
    expect(codec.selectorOf(flipped)).toBeUndefined();
  });

  it('accepts GoTrue 12-character legacy tokens as their own selector', () => {
    expect(codec.selectorOf('abcdefghij12')).toBe('abcdefghij12');
  });

  it.each(['', 'x', '!'.repeat(44), 'a'.repeat(13)])('refuses %j', (t) => expect(codec.selectorOf(t)).toBeUndefined());
});
