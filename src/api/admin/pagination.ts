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
  res.setHeader('Link', links.join(', '));
  res.setHeader('X-Total-Count', String(total));
}
