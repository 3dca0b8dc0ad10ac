import { sql } from 'kysely';
import type { Db } from '../database';

export interface HookFunctionCall {
  /** Validated at startup against GoTrue's ^[a-zA-Z_][a-zA-Z0-9_]{0,62}$, and quoted here as identifiers. */
  schema: string;
  name: string;
  /** The hook's input, JSON text, passed as the one parameter (the function takes jsonb). */
  payload: string;
  /** statement_timeout for the call, as GoTrue's 2 s. */
  timeoutMs: number;
}

/**
 * Calls a `pg-functions://` hook in its own short transaction, as GoTrue does when no transaction is passed:
 * `set local statement_timeout`, then `select "schema"."name"($1)`. Returns the function's result (jsonb parsed by
 * the driver, or text) or null.
 */
export async function callHookFunction(db: Db, call: HookFunctionCall): Promise<unknown> {
  const timeout = Math.max(1, Math.floor(call.timeoutMs));
  return db.transaction().execute(async (trx) => {
    await sql`set local statement_timeout = ${sql.raw(String(timeout))}`.execute(trx);
    const { rows } = await sql<{ result: unknown }>`select ${sql.id(call.schema, call.name)}(${call.payload}) as result`.execute(trx);
    return rows[0]?.result ?? null;
  });
}
