import type { Response } from 'express';
import type { z } from 'zod';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { queryString } from '../../http/fields';
import { encodeValues } from '../../http/url-values';

export interface PageParams {
  /** 1-based. */
  page: number;
  perPage: number;
}

const DEFAULT_PER_PAGE = 50;
/** Keeps OFFSET (page − 1) × per_page inside Postgres' bigint. */
const MAX_PARAM = 2_147_483_647;

/** `?page=&per_page=` as Go's url.Values.Get reads them: the first value, '' when absent. */
export const PageQuery = { page: queryString(), per_page: queryString() };
type PageQueryOut = { [K in keyof typeof PageQuery]: z.output<(typeof PageQuery)[K]> };

function positive(name: string, text: string, dflt: number): number {
  if (text === '') return dflt;
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_PARAM)) {
    throw badRequest(ErrorCodes.validationFailed, `Bad Pagination Parameters: ${name} must be a whole number from 1 to ${MAX_PARAM}`);
  }
  return n;
}

/** `?page=&per_page=`: empty or absent = page 1 of 50 (auth-js sends both, empty when unset). */
export function parsePagination(q: PageQueryOut): PageParams {
  return { page: positive('page', q.page, 1), perPage: positive('per_page', q.per_page, DEFAULT_PER_PAGE) };
}

/** The rows a page covers, as a repository's LIMIT and OFFSET. */
export const pageWindow = (p: PageParams): { limit: number; offset: number } => ({ limit: p.perPage, offset: (p.page - 1) * p.perPage });

/**
 * GoTrue's pagination headers: `X-Total-Count`, and `Link: <url?…page=N…>; rel="next", <url?…page=L…>; rel="last"`
 * (`next` only when more rows follow). The URL is the request's own path and query with `page` replaced, keys
 * sorted as Go encodes them, so with auth-js' usual page/per_page query `page` comes first — auth-js reads the
 * character after the first '='. Page numbers are written in full; clients that parse the URL follow any page.
 */
export function setPaginationHeaders(url: string, res: Response, p: PageParams, total: number): void {
  const [path = '', rawQuery = ''] = url.split(/\?(.*)/s);
  const params = new URLSearchParams(rawQuery);
  const link = (page: number, rel: string) => {
    params.set('page', String(page));
    return `<${path}?${encodeValues(params)}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (total > p.page * p.perPage) links.push(link(p.page + 1, 'next'));
  links.push(link(Math.ceil(total / p.perPage), 'last'));
  setLink(res, links.join(', '));
  res.setHeader('X-Total-Count', String(total));
}

/**
 * A Link header repeats the request's query (twice in page mode), so a long query would make a header no client
 * reads: Node's http and undici refuse a response whose headers pass 16 KiB ("Header overflow"), where Go's
 * client does not. Past this size the Link is left out (X-Total-Count still says how many); a real listing query
 * is a few hundred bytes.
 */
const MAX_LINK_HEADER = 8 * 1024;

function setLink(res: Response, value: string): void {
  if (value.length <= MAX_LINK_HEADER) res.setHeader('Link', value);
}

/** GoTrue's cursor mode: 50 rows unless `limit` says otherwise, never more than 1,000. */
const DEFAULT_KEYSET_LIMIT = 50;
const MAX_KEYSET_LIMIT = 1000;

/** A keyset position as the cursor carries it: created_at (RFC 3339, microseconds) and id of a page's last user. */
export interface CursorKey {
  createdAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const GO_ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Whether a string is an RFC 3339 time Go's time.Time accepts and Postgres can hold (year ≥ 1, real calendar day). */
function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || h > 23 || mi > 59 || sec > 59) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  const day = new Date(0);
  day.setUTCFullYear(y, mo - 1, d);
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/** GoTrue's Cursor.String: base64url (no padding) of `{"created_at": RFC 3339 with trailing zeros trimmed, "id"}`. */
export function encodeCursor(key: CursorKey): string {
  const createdAt = key.createdAt.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
  return Buffer.from(JSON.stringify({ created_at: createdAt, id: key.id })).toString('base64url');
}

const badCursor = (why: string) => badRequest(ErrorCodes.validationFailed, `Bad Pagination Parameters: ${why}`);

/** GoTrue's decodeCursor: a token it could have written, else 400 validation_failed (never a 5xx from the query). */
export function decodeCursor(raw: string): CursorKey {
  if (!/^[A-Za-z0-9_-]+$/.test(raw) || raw.length % 4 === 1) throw badCursor('invalid cursor encoding');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('invalid cursor');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badCursor('invalid cursor');
  const { created_at: createdAt, id } = value as Record<string, unknown>;
  if (id !== undefined && (typeof id !== 'string' || !UUID.test(id))) throw badCursor('invalid cursor: malformed id');
  if (id === undefined || id === NIL_UUID) throw badCursor('invalid cursor: missing id');
  if (createdAt !== undefined && (typeof createdAt !== 'string' || !isRfc3339(createdAt))) throw badCursor('invalid cursor: malformed created_at');
  // Go's zero time (what a missing created_at decodes to) is refused too: no cursor we write carries it.
  if (createdAt === undefined || Date.parse(createdAt) === GO_ZERO_TIME) throw badCursor('invalid cursor: missing created_at');
  return { createdAt, id: id.toLowerCase() };
}

/** `?limit=&cursor=` of cursor mode. */
export const KeysetQuery = { limit: queryString(), cursor: queryString() };
type KeysetQueryOut = { [K in keyof typeof KeysetQuery]: z.output<(typeof KeysetQuery)[K]> };

/** GoTrue's parseKeysetParams: limit 1… (capped at 1,000; 50 when absent), cursor absent = the first page. */
export function parseKeysetParams(q: KeysetQueryOut): { limit: number; after: CursorKey | undefined } {
  let limit = DEFAULT_KEYSET_LIMIT;
  if (q.limit !== '') {
    if (!/^\d{1,20}$/.test(q.limit)) throw badRequest(ErrorCodes.validationFailed, 'Bad Pagination Parameters: limit must be a whole number');
    const n = Number(q.limit);
    if (n === 0) throw badRequest(ErrorCodes.validationFailed, 'Bad Pagination Parameters: limit must be greater than 0');
    limit = Math.min(n, MAX_KEYSET_LIMIT);
  }
  return { limit, after: q.cursor === '' ? undefined : decodeCursor(q.cursor) };
}

/**
 * GoTrue's addKeysetPaginationHeaders: `Link: <url?…cursor=NEXT…>; rel="next"` when more rows follow, the
 * request's own path and query with `page` dropped (so the next request stays in cursor mode); nothing otherwise.
 */
export function setKeysetHeaders(url: string, res: Response, next: string | undefined): void {
  if (next === undefined) return;
  const [path = '', rawQuery = ''] = url.split(/\?(.*)/s);
  const params = new URLSearchParams(rawQuery);
  params.delete('page');
  params.set('cursor', next);
  setLink(res, `<${path}?${encodeValues(params)}>; rel="next"`);
}
