import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { VaultKey } from '../config/vault-keys';
import type { Random } from './clock';

/** Thrown when a sealed value cannot be opened (unknown key id, tampered, or sealed for another row). */
export class VaultError extends Error {}

const PREFIX = 'vault:v1:';

/**
 * AES-256-GCM sealing of provider secrets at rest. A sealed value is `vault:v1:<kid>:<iv>:<ciphertext>:<tag>`
 * (base64url parts): the key id travels with the ciphertext, so keys rotate by putting a new key first and
 * keeping the old ones until every value has been re-sealed. The associated data binds a ciphertext to its row
 * and column, so a value copied to another row does not open.
 */
export interface TokenVault {
  /** False without GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: nothing may be stored. */
  readonly enabled: boolean;
  seal(plain: string, context: string): string;
  open(sealed: string, context: string): string;
  /** Opens a sealed value; passes a value stored before the vault was configured through unchanged. */
  openIfSealed(value: string, context: string): string;
}

export function createTokenVault(keys: readonly VaultKey[], random: Random): TokenVault {
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const current = keys[0];
  const open = (sealed: string, context: string): string => {
    const parts = sealed.startsWith(PREFIX) ? sealed.slice(PREFIX.length).split(':') : [];
    if (parts.length !== 4) throw new VaultError('not a sealed value');
    const [kid, iv, ct, tag] = parts as [string, string, string, string];
    const key = byId.get(kid);
    if (!key) throw new VaultError(`no vault key with id "${kid}"`);
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch (err) {
      throw new VaultError('sealed value does not authenticate', { cause: err });
    }
  };
  return {
    enabled: current !== undefined,
    seal(plain, context) {
      if (!current) throw new VaultError('the token vault has no key');
      const iv = random.bytes(12);
      const c = createCipheriv('aes-256-gcm', current.key, iv);
      c.setAAD(Buffer.from(context));
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `${PREFIX}${current.id}:${iv.toString('base64url')}:${ct.toString('base64url')}:${c.getAuthTag().toString('base64url')}`;
    },
    open,
    openIfSealed: (value, context) => (value.startsWith(PREFIX) ? open(value, context) : value),
  };
}
