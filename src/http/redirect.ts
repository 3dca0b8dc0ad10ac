import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { logApiError } from './error-handler';
import { encodeValues } from './url-values';

/**
 * The one way a browser is sent back to an app: GET /verify, /authorize, /callback (and the OAuth server's
 * /oauth/authorize) build every Location here. Parameters are written as Go's url.Values.Encode writes them —
 * keys sorted, url.QueryEscape'd — into the query (merged with the target's own, all re-sorted, as GoTrue's
 * `q := u.Query(); q.Set(…); u.RawQuery = q.Encode()`) and/or the fragment (replacing it).
 */

export type Params = Record<string, string>;

export interface Placement {
  /** Set in the query, over the target's own parameters. */
  query?: Params;
  /** The whole fragment. */
  fragment?: Params;
}

/** The target with these parameters placed. */
export function withParams(target: string, p: Placement): string {
  const u = new URL(target);
  if (p.query) {
    const q = new URLSearchParams(u.search);
    for (const [k, v] of Object.entries(p.query)) q.set(k, v);
    const encoded = encodeValues(q);
    u.search = encoded === '' ? '' : `?${encoded}`;
  }
  if (p.fragment) u.hash = encodeValues(p.fragment);
  return u.href;
}

/** Answers with a redirect to the target with these parameters (302 unless said otherwise). */
export function redirectWithParams(res: Response, target: string, p: Placement, status: 302 | 303 = 302): void {
  res.redirect(status, withParams(target, p));
}

/** GoTrue's oauthErrorMap: the OAuth `error` for an HTTP status. */
const BY_STATUS: Record<number, string> = { 400: 'invalid_request', 401: 'unauthorized_client', 403: 'access_denied', 500: 'server_error', 503: 'temporarily_unavailable' };
/** Codes GoTrue's OAuth callback always reports as a refusal. */
const ACCESS_DENIED = new Set<string>([ErrorCodes.signupDisabled, ErrorCodes.userBanned, ErrorCodes.providerEmailNeedsVerification]);

/**
 * The OAuth `error` name of an error: its own (an RFC 6749 error), access_denied for refusals, the name of its
 * status, else `unmapped` (GET /verify omits `error` then; the OAuth callback says server_error).
 */
export function oauthErrorName(err: ApiError, unmapped?: string): string | undefined {
  if (err.oauth) return err.oauth.error;
  if (ACCESS_DENIED.has(err.code)) return 'access_denied';
  if (err.code === ErrorCodes.providerUnavailable) return 'temporarily_unavailable';
  return BY_STATUS[err.status] ?? unmapped;
}

export interface ErrorRedirect {
  /** 'fragment': the error in the fragment only (GET /verify's implicit links); 'both': query and fragment. */
  in: 'fragment' | 'both';
  status?: 302 | 303;
  /** The `error` name for a status GoTrue's map does not name; omitted when undefined. */
  unmapped?: string;
  /** The error_description when it should not be the error's message (GET /verify words bad links its own way). */
  description?: string;
}

/**
 * Answers an error the way GoTrue's redirect endpoints do: `error`, `error_code`, `error_description` in the
 * fragment (with `sb=`, so clients know the redirect is ours) and, for PKCE and OAuth flows, in the query too.
 * Sets x-sb-error-code and logs exactly as the error handler logs a JSON error.
 */
export function redirectWithError(req: Request, res: Response, logger: Logger, target: string, err: ApiError, o: ErrorRedirect): void {
  logApiError(logger, err, req.id);
  const name = oauthErrorName(err, o.unmapped);
  const params: Params = { ...(name ? { error: name } : {}), error_code: err.code, error_description: o.description ?? err.message };
  res.setHeader('x-sb-error-code', err.code);
  redirectWithParams(res, target, { query: o.in === 'both' ? params : undefined, fragment: { ...params, sb: '' } }, o.status ?? 302);
}
