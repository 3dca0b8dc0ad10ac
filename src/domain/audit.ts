import type { Db } from '../db/database';
import { countAuditEntries, listAuditEntries, type AuditEntry, type AuditSearch } from '../db/repositories/audit-log';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { RequestMeta } from './request-meta';

/** insertAuditEntries writes audit rows, inside the transaction of the change they record (house rule 7). */
export { insertAuditEntries, type AuditEntry } from '../db/repositories/audit-log';

/** GoTrue's audit actions and the log type each one is filed under. */
export const AuditActions = {
  login: 'account',
  logout: 'account',
  user_signedup: 'team',
  user_deleted: 'team',
  user_repeated_signup: 'user',
  user_confirmation_requested: 'user',
  user_recovery_requested: 'user',
  user_reauthenticate: 'user',
  user_invited: 'team',
  user_modified: 'user',
  user_updated_password: 'user',
  token_revoked: 'token',
  token_refreshed: 'token',
  identity_linked: 'user',
  identity_unlinked: 'user',
  provider_token_refreshed: 'token',
  provider_token_revoked: 'token',
  factor_updated: 'factor',
  factor_deleted: 'factor',
  factor_in_progress: 'factor',
  factor_unenrolled: 'factor',
  challenge_created: 'factor',
  verification_attempted: 'factor',
  // MFA recovery codes: the action names GoTrue once reserved for them (log type recovery_codes).
  generate_recovery_codes: 'recovery_codes',
  recovery_codes_deleted: 'recovery_codes',
} as const;
export type AuditAction = keyof typeof AuditActions;

/** An audit row as GoTrue writes it: payload {actor_id, actor_username, actor_name?, actor_via_sso, action, log_type, traits?}. */
export function auditEntry(
  deps: Pick<Deps, 'clock' | 'random'>,
  meta: RequestMeta,
  actor: Pick<UserRow, 'id' | 'email' | 'phone' | 'raw_user_meta_data'>,
  action: AuditAction,
  traits?: Record<string, unknown>,
): AuditEntry {
  const name = actor.raw_user_meta_data?.['full_name'];
  return {
    id: deps.random.uuid(),
    ipAddress: meta.ip,
    createdAt: deps.clock.now(),
    payload: {
      actor_id: actor.id,
      ...(typeof name === 'string' && name !== '' ? { actor_name: name } : {}),
      actor_username: actor.email || actor.phone || '',
      actor_via_sso: false,
      action,
      log_type: AuditActions[action],
      ...(traits ? { traits } : {}),
    },
  };
}

/** One page of the audit log, newest first, and how many rows match the search in all. */
export async function auditLogPage(db: Db, search: AuditSearch | undefined, page: { limit: number; offset: number }) {
  const [total, entries] = await Promise.all([countAuditEntries(db, search), listAuditEntries(db, search, page)]);
  return { total, entries };
}
