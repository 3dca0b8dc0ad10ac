import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { prepared } from '../../src/db/prepared';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';

const { db } = useTestApp();

describe(`prepared queries (${dbKind})`, () => {
  it('binds each call’s arguments to their own slots, in any order, keeping constants', async () => {
    const q = prepared(2, (ex, a, b) =>
      ex.selectNoFrom((eb) => [eb.val(b!).as('second'), eb.val('constant').as('fixed'), eb.val(a!).as('first')]),
    );
    expect(await q(db.db, 'x', 'y')).toEqual([{ second: 'y', fixed: 'constant', first: 'x' }]);
    expect(await q(db.db, 'p', 'q')).toEqual([{ second: 'q', fixed: 'constant', first: 'p' }]);
  });

  it('binds an argument used twice in both places', async () => {
    const q = prepared(1, (ex, a) => ex.selectNoFrom((eb) => [eb.val(a!).as('one'), eb.val(a!).as('two')]));
    expect(await q(db.db, 'z')).toEqual([{ one: 'z', two: 'z' }]);
  });

  it('refuses a query where an argument does not reach the SQL as a parameter', async () => {
    const q = prepared(1, (ex, a) => ex.selectNoFrom(sql<string>`${sql.lit(a!.length)}`.as('n')));
    await expect(q(db.db, 'x')).rejects.toThrow(/argument 0 does not reach the SQL/);
  });

  it('works inside a transaction too', async () => {
    const q = prepared(1, (ex, a) => ex.selectNoFrom((eb) => [eb.val(a!).as('v')]));
    const rows = await db.db.transaction().execute((trx) => q(trx, 'in-trx'));
    expect(rows).toEqual([{ v: 'in-trx' }]);
  });

  it('compiles once for a handle and every transaction begun from it', async () => {
    let builds = 0;
    const q = prepared(1, (ex, a) => {
      builds++;
      return ex.selectNoFrom((eb) => [eb.val(a!).as('v')]);
    });
    expect(await q(db.db, 'a')).toEqual([{ v: 'a' }]);
    for (const v of ['b', 'c']) expect(await db.db.transaction().execute((trx) => q(trx, v))).toEqual([{ v }]);
    expect(builds).toBe(1);
  });

  it('compiles apart for another plugin list: withSchema names its own schema', async () => {
    let builds = 0;
    const q = prepared(1, (ex, id) => {
      builds++;
      return ex.selectFrom('users').select('id').where('id', '=', id!);
    });
    const id = '00000000-0000-0000-0000-000000000001';
    expect(await q(db.db, id)).toEqual([]);
    await expect(db.db.transaction().execute((trx) => q(trx.withSchema('no_such_schema'), id))).rejects.toThrow(/no_such_schema/);
    expect(builds).toBe(2);
  });
});
