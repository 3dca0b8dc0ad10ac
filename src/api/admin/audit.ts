import type { RequestHandler } from 'express';
import type { Deps } from '../../deps';
import { adminListAudit } from '../../services/admin/audit-log';
import { parsePagination, queryParam, setPaginationHeaders } from './pagination';

/** GET /admin/audit?page&per_page&query=author:|action:|type:<x> → [{id, payload, created_at, ip_address}] */
export const listAudit = (deps: Deps): RequestHandler => async (req, res) => {
  const page = parsePagination(req);
  const { total, entries } = await adminListAudit(deps, { query: queryParam(req, 'query'), ...page });
  setPaginationHeaders(req, res, page, total);
  res.json(
    entries.map((e) => ({
      id: e.id,
      payload: e.payload,
      created_at: e.created_at ? new Date(e.created_at).toISOString() : null,
      ip_address: e.ip_address,
    })),
  );
};
