import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './database';
import { nameStatement } from './statement-names';

/**
 * A query compiled once per database handle and re-run with fresh parameters. Kysely builds and compiles a query
 * tree on every call (about 50–100 µs for the user lookup that runs on every authenticated request); the hot
 * paths use this instead.
 *
 * `build` is called once per handle with unique placeholder strings; each argument must reach the SQL as one
 * bound parameter, unchanged (no arithmetic, no JSON.stringify), so its slot can be found in the compiled
 * parameters. Parameters that are not placeholders (constants in the query) are kept as compiled.
 * The compiled query is kept per dialect adapter (one per Kysely root, shared by every transaction begun from it)
 * and plugin list (withSchema adds one; a transaction carries its parent's plugin objects): each transaction is a
 * new object, and keying by it compiled the refresh grant's locking query on every refresh (~0.2 ms of Kysely).
 * On Postgres the SQL also runs as a named statement, planned once per connection (statement-names.ts).
 */
export function prepared<Row, N extends number>(arity: N, build: (ex: Executor, ...args: string[]) => Compilable<Row>) {
  const placeholders = Array.from({ length: arity }, (_, i) => `\u0000prepared-placeholder-${i}\u0000`);
  type Entry = { sql: string; slots: (number | { value: unknown })[] };
  const cache = new WeakMap<object, { plugins: readonly unknown[]; entry: Entry }[]>();

  const compile = (ex: Executor) => {
    const compiled = build(ex, ...placeholders).compile();
    const slots = compiled.parameters.map((p) => {
      const i = placeholders.indexOf(p as string);
      return i >= 0 ? i : { value: p };
    });
    for (let i = 0; i < arity; i++) {
      if (!slots.includes(i)) throw new Error(`prepared: argument ${i} does not reach the SQL as a parameter`);
    }
    nameStatement(compiled.sql);
    return { sql: compiled.sql, slots };
  };

  const entryFor = (ex: Executor): Entry => {
    // getExecutor() is typed but marked internal in Kysely; its adapter and plugins are what compilation depends on.
    const { adapter, plugins } = ex.getExecutor();
    let seen = cache.get(adapter);
    if (!seen) cache.set(adapter, (seen = []));
    const same = seen.find((c) => c.plugins.length === plugins.length && c.plugins.every((p, i) => p === plugins[i]));
    if (same) return same.entry;
    const entry = compile(ex);
    seen.push({ plugins: [...plugins], entry });
    return entry;
  };

  return async (ex: Executor, ...args: unknown[]): Promise<Row[]> => {
    const entry = entryFor(ex);
    const params = entry.slots.map((s) => (typeof s === 'number' ? args[s] : s.value));
    const result = await ex.executeQuery<Row>(CompiledQuery.raw(entry.sql, params));
    return result.rows;
  };
}
