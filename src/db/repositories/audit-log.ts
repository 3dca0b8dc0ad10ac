import type { Executor } from '../database';
import { INSTANCE_ID } from './users';

export interface AuditEntry {
  id: string;
  payload: Record<string, unknown>;
  ipAddress: string;
  createdAt: Date;
}

/** Writes audit rows; called inside the transaction of the change they record. */
export async function insertAuditEntries(ex: Executor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await ex
    .insertInto('audit_log_entries')
    .values(
      entries.map((e) => ({
        instance_id: INSTANCE_ID,
        id: e.id,
        payload: JSON.stringify(e.payload),
        ip_address: e.ipAddress.slice(0, 64),
        created_at: e.createdAt,
      })),
    )
    .execute();
}
