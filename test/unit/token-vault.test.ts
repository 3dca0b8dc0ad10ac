import { describe, expect, it } from 'vitest';
import { systemRandom } from '../../src/crypto/clock';
import { createTokenVault, VaultError } from '../../src/crypto/token-vault';

const k1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 2) };

describe('token vault (AES-256-GCM)', () => {
  it('seals and opens, with the key id in the ciphertext and a fresh IV each time', () => {
    const v = createTokenVault([k1], systemRandom);
    const a = v.seal('gho_secret', 'ctx');
    const b = v.seal('gho_secret', 'ctx');
    expect(a).toMatch(/^vault:v1:k1:/);
    expect(a).not.toContain('gho_secret');
    expect(a).not.toBe(b);
    expect(v.open(a, 'ctx')).toBe('gho_secret');
  });

  it('rotates: a new first key seals, old keys still open', () => {
    const old = createTokenVault([k1], systemRandom).seal('t', 'ctx');
    const rotated = createTokenVault([k2, k1], systemRandom);
    expect(rotated.open(old, 'ctx')).toBe('t');
    expect(rotated.seal('t', 'ctx')).toMatch(/^vault:v1:k2:/);
    expect(() => createTokenVault([k2], systemRandom).open(old, 'ctx')).toThrow(/no vault key with id "k1"/);
  });

  it('refuses a value moved to another context, or tampered with', () => {
    const v = createTokenVault([k1], systemRandom);
    const sealed = v.seal('t', 'row-a');
    expect(() => v.open(sealed, 'row-b')).toThrow(VaultError);
    const parts = sealed.split(':');
    parts[5] = Buffer.from('x'.repeat(16)).toString('base64url');
    expect(() => v.open(parts.join(':'), 'row-a')).toThrow(VaultError);
  });

  it('is disabled without keys, and passes unsealed legacy values through openIfSealed', () => {
    const v = createTokenVault([], systemRandom);
    expect(v.enabled).toBe(false);
    expect(() => v.seal('t', 'c')).toThrow(VaultError);
    expect(v.openIfSealed('plain-token', 'c')).toBe('plain-token');
  });
});
