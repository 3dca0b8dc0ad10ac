import type { Response } from 'express';
import type { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/** GoTrue's OAuth `error` for an HTTP status; a few codes always read as a refusal. */
const BY_STATUS: Record<number, string> = { 400: 'invalid_request', 401: 'unauthorized_client', 403: 'access_denied', 500: 'server_error', 503: 'temporarily_unavailable' };
const ACCESS_DENIED = new Set<string>([ErrorCodes.signupDisabled, ErrorCodes.userBanned, ErrorCodes.providerEmailNeedsVerification]);

export function oauthErrorOf(err: ApiError): string {
  if (err.oauth) return err.oauth.error;
  if (ACCESS_DENIED.has(err.code)) return 'access_denied';
  if (err.code === ErrorCodes.providerUnavailable) return 'temporarily_unavailable';
  return BY_STATUS[err.status] ?? 'server_error';
}

/** `key=value&…` sorted by key, as Go's url.Values.Encode writes it. */
export function encodeSorted(params: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(params).sort()) q.set(k, params[k]!);
  return q.toString();
}

/**
 * An error as GoTrue's redirectErrors sends it: error, error_code and error_description in the query and in the
 * fragment, so both implicit (fragment) and PKCE (query) clients see it.
 */
export function redirectWithError(res: Response, target: string, err: ApiError, status = 302): void {
  const u = new URL(target);
  const params = { error: oauthErrorOf(err), error_code: err.code, error_description: err.message };
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  u.hash = encodeSorted(params);
  res.setHeader('x-sb-error-code', err.code);
  res.redirect(status, u.href);
}

/** PKCE: `target?code=<auth code>`, other query parameters (auth-js' sb flow id) kept. */
export function redirectWithCode(res: Response, target: string, code: string): void {
  const u = new URL(target);
  u.searchParams.set('code', code);
  res.redirect(302, u.href);
}

/** Implicit: the session in the fragment, sorted, with `sb=` (contract §1.5). */
export function redirectWithFragment(res: Response, target: string, params: Record<string, string>): void {
  const u = new URL(target);
  u.hash = encodeSorted({ ...params, sb: '' });
  res.redirect(302, u.href);
}
