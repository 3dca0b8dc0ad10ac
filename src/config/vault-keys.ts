/** One AES-256-GCM key of the provider token vault. */
export interface VaultKey {
  id: string;
  key: Buffer;
}

/**
 * GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS = `kid:base64key,kid2:base64key2`: 32-byte keys, the first encrypts, all
 * decrypt (so a key can be rotated in front of the old ones). Returns the keys or a problem.
 */
export function parseVaultKeys(text: string | undefined): { keys: VaultKey[]; problem?: string } {
  if (text === undefined || text.trim() === '') return { keys: [] };
  const keys: VaultKey[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const id = colon > 0 ? part.slice(0, colon) : '';
    const key = Buffer.from(colon > 0 ? part.slice(colon + 1) : '', 'base64');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      return { keys: [], problem: 'expected kid:base64key pairs separated by commas, each key 32 bytes (openssl rand -base64 32)' };
    }
    if (keys.some((k) => k.id === id)) return { keys: [], problem: `key id "${id}" appears twice` };
    keys.push({ id, key });
  }
  return { keys };
}
