import type { Config } from '../config';
import { migrateDown, migrateToLatest, migrationStatus } from '../db/migrate';
import { openConfiguredDatabase } from './database';

/** `./gotrue migrate [up|down|status]`; throws (so the CLI exits non-zero) on any failure. */
export async function migrate(config: Config, action: 'up' | 'down' | 'status'): Promise<void> {
  // A migration may rightly run longer than a request's statement (an index on a large table).
  const database = await openConfiguredDatabase(config, { statementTimeout: false });
  const where = database.kind === 'pglite' ? `embedded database at ${database.dataDir}` : `schema "${database.namespace}" on Postgres`;
  try {
    if (action === 'status') {
      for (const m of await migrationStatus(database)) {
        console.log(`${m.executedAt ? 'applied ' + m.executedAt.toISOString() : 'pending                 '}  ${m.name}`);
      }
    } else if (action === 'down') {
      const done = await migrateDown(database);
      console.log(done.length ? `reverted ${done.join(', ')} (${where})` : `nothing to revert (${where})`);
    } else {
      const done = await migrateToLatest(database);
      console.log(done.length ? `applied ${done.join(', ')} (${where})` : `already up to date (${where})`);
    }
  } finally {
    await database.destroy();
  }
}
