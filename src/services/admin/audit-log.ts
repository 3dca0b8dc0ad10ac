import { auditLogPage } from '../../domain/audit';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';

/** GoTrue's audit query scopes and the payload keys each one searches. */
const SCOPES: Record<string, readonly string[]> = {
  author: ['actor_username', 'actor_name'],
  action: ['action'],
  type: ['log_type'],
};

/** Parses `author:<x>`, `action:<x>` or `type:<x>`; '' = everything. Another scope is 400 validation_failed. */
export function parseAuditQuery(query: string): { keys: readonly string[]; value: string } | undefined {
  if (query === '') return undefined;
  const colon = query.indexOf(':');
  const scope = colon < 0 ? query : query.slice(0, colon);
  const keys = Object.hasOwn(SCOPES, scope) ? SCOPES[scope] : undefined;
  if (colon < 0 || !keys) throw badRequest(ErrorCodes.validationFailed, `Invalid query scope: ${query}`);
  return { keys, value: query.slice(colon + 1) };
}

/** GET /admin/audit: one page of the audit log, newest first, and how many rows match in all. */
export async function adminListAudit(deps: Pick<Deps, 'db'>, input: { query: string; page: number; perPage: number }) {
  return auditLogPage(deps.db, parseAuditQuery(input.query), { limit: input.perPage, offset: (input.page - 1) * input.perPage });
}
