import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keysSigner, resolveSecret } from '../../src/cli/embedded';
import { loadConfig } from '../../src/config';
import { useTempDirs } from '../helpers/temp-dirs';

const tempDir = useTempDirs('gotrue-secret-');

/** An embedded-database config over a fresh folder holding `content` as its jwt-secret. */
function withSecretFile(content: string) {
  const dir = tempDir();
  writeFileSync(join(dir, 'jwt-secret'), content, { mode: 0o600 });
  return { dir, config: loadConfig({ GOTRUE_DB_DATA_DIR: dir }) };
}

describe('the embedded JWT secret file', () => {
  it.each([
    ['empty', '', /jwt-secret is empty/],
    ['only a newline', '\n', /jwt-secret is empty/],
    ['truncated', 'abc123\n', /jwt-secret is shorter than 32 characters/],
  ])('refuses a file that is %s, naming the file and the ways out (serve and keys alike)', (_what, content, message) => {
    const { dir, config } = withSecretFile(content);
    for (const run of [() => resolveSecret(config), () => keysSigner(config)]) {
      expect(run).toThrow(message);
      expect(run).toThrow(join(dir, 'jwt-secret'));
      expect(run).toThrow(/set GOTRUE_JWT_SECRET/);
    }
  });

  it('reads a whole secret, trimmed', () => {
    const secret = 'x'.repeat(43);
    const { config } = withSecretFile(`${secret}\n`);
    expect(resolveSecret(config).config.jwt.secret).toBe(secret);
    expect(() => keysSigner(config)).not.toThrow();
  });
});
