import { z } from 'zod';
import { endpoint } from '../../http/endpoint';
import { queryString } from '../../http/fields';
import { adminListAudit } from '../../services/admin/audit-log';
import { PageQuery, parsePagination, setPaginationHeaders } from './pagination';

const AuditQuery = z.object({ ...PageQuery, query: queryString() });

/** GET /admin/audit?page&per_page&query=author:|action:|type:<x> → [{id, payload, created_at, ip_address}] */
export const listAudit = endpoint({ auth: 'admin', query: AuditQuery }, async ({ query, url, res }, deps) => {
  const page = parsePagination(query);
  const { total, entries } = await adminListAudit(deps, { query: query.query, ...page });
  setPaginationHeaders(url, res, page, total);
  return entries.map((e) => ({
    id: e.id,
    payload: e.payload,
    created_at: e.created_at ? new Date(e.created_at).toISOString() : null,
    ip_address: e.ip_address,
  }));
});
