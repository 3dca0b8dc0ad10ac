import { sql } from 'kysely';
import type { Executor } from '../database';
import { escapeLike, INSTANCE_ID } from './users';

export interface AuditEntry {
  id: string;
  payload: Record<string, unknown>;
  ipAddress: string;
  createdAt: Date;
}

/** The audit_log_entries row of an entry (also written by statements that record a change and its audit at once). */
export const auditRow = (e: AuditEntry) => ({
  instance_id: INSTANCE_ID,
  id: e.id,
  payload: JSON.stringify(e.payload),
  ip_address: e.ipAddress.slice(0, 64),
  created_at: e.createdAt,
});

/** Writes audit rows; called inside the transaction of the change they record. */
export async function insertAuditEntries(ex: Executor, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await ex.insertInto('audit_log_entries').values(entries.map(auditRow)).execute();
}

/** A search over audit payloads: a substring (matched literally, case-insensitively) of any of these keys. */
export interface AuditSearch {
  keys: readonly string[];
  value: string;
}

function searchAudit(ex: Executor, q: AuditSearch | undefined) {
  let query = ex.selectFrom('audit_log_entries as a').where('a.instance_id', '=', INSTANCE_ID);
  if (q && q.keys.length > 0 && q.value !== '') {
    const pattern = `%${escapeLike(q.value)}%`;
    query = query.where((eb) => eb.or(q.keys.map((k) => sql<boolean>`(${eb.ref('a.payload')} ->> ${sql.lit(k)}) ilike ${pattern} escape '\\'`)));
  }
  return query;
}

export async function countAuditEntries(ex: Executor, q: AuditSearch | undefined): Promise<number> {
  const row = await searchAudit(ex, q)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One page of audit rows, newest first (then by id, so pages never overlap). */
export async function listAuditEntries(ex: Executor, q: AuditSearch | undefined, page: { limit: number; offset: number }) {
  return searchAudit(ex, q)
    .select(['a.id', 'a.payload', 'a.created_at', 'a.ip_address'])
    .orderBy('a.created_at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}
