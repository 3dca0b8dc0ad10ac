/**
 * SQL texts that run as named (server-side prepared) statements on Postgres. Postgres plans an unnamed statement
 * on every execution; for the user lookup that runs on every authenticated request, planning (about 1 ms) cost
 * four times the execution. A named statement is parsed and planned once per connection, and pg keeps it.
 * `prepared()` registers its compiled SQL here; database.ts gives the registered texts their names.
 */
const names = new Map<string, string>();

/** Gives this SQL text a statement name (idempotent). */
export function nameStatement(sql: string): void {
  if (!names.has(sql)) names.set(sql, `gotrue_${names.size + 1}`);
}

/** The statement name of a registered SQL text, or undefined. */
export const statementName = (sql: string): string | undefined => names.get(sql);
