import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary folders for one test file: returns a maker of fresh folders named `<prefix>…` under the OS temp dir,
 * and registers an afterAll that removes them all. Call it at the top of the file, before hooks that stop
 * processes using those folders (vitest runs afterAll hooks as a stack, so the folders go last).
 */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
