import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config/schema';
import { loadConfig } from '../../src/config';

const text = readFileSync(new URL('../../example.env', import.meta.url), 'utf8');
/** Names example.env documents: set (`NAME=`) or shown commented out (`# NAME=`). */
const documented = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));

describe('example.env', () => {
  it('documents every variable the config schema reads', () => {
    const missing = Object.keys(envSchema.shape).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('loads as a valid configuration when copied to .env as it is', () => {
    const env: Record<string, string> = {};
    for (const m of text.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
    expect(() => loadConfig(env)).not.toThrow();
  });
});
