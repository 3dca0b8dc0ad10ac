import { oauthError } from '../../domain/oauth-server';

/**
 * A string parameter of an OAuth request: absent or empty is undefined; a repeated parameter (RFC 6749 §3.2: MUST
 * NOT repeat), a non-string or an over-long value is invalid_request.
 */
export function oauthString(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw oauthError(400, 'invalid_request', `${name} must be a single string`);
  if (v.length > max) throw oauthError(400, 'invalid_request', `${name} is longer than ${max} characters`);
  return v;
}

/** The request body as parameters: a form or a JSON object; anything else is invalid_request. */
export function oauthBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw oauthError(400, 'invalid_request', 'The body must be form parameters or a JSON object');
  return body as Record<string, unknown>;
}
