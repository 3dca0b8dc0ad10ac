import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../db/migrations';

describe('the migration index', () => {
  it('lists every migration file once, in name order (the order Kysely applies them and `migrate down` reverts the last)', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
    const files = readdirSync(new URL('../../db/migrations/', import.meta.url))
      .filter((f) => /^\d{14}_.+\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(names).toEqual(files.sort());
  });
});
