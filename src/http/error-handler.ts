import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { databaseFailure } from '../db/connection-errors';
import { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/** The API version auth-js sends; at or after it, errors are `{code, message}`. */
export const API_VERSION_2024_01_01 = '2024-01-01';
const VERSION_HEADER = 'x-supabase-api-version';

function requestedVersion(req: Request): string | undefined {
  const v = req.header(VERSION_HEADER);
  if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) return undefined;
  return v;
}

/**
 * What a zod issue may carry in `params` to be answered other than as `400 validation_failed "<path>: <message>"`:
 * another status (a malformed path id is GoTrue's 404) and/or the message alone, without the field path.
 */
export interface IssueParams {
  status?: number;
  bare?: boolean;
}

/** A driver error from Postgres or PGlite: it carries a five-character SQLSTATE. */
function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string' ? e.code : undefined;
}

/**
 * Last line of defence for input the edge should have refused (the shared fields do): a value Postgres cannot
 * store (class 22: too long, NUL, bad encoding; 54001: nested too deep) is the client's 400, and a unique
 * violation no flow mapped is a 409. Logged as a warning (see logApiError): each one is a missing edge check.
 */
function databaseInputError(err: unknown): ApiError | undefined {
  const state = sqlState(err);
  if (state === undefined) return undefined;
  if (state === '23505') return new ApiError(409, ErrorCodes.conflict, 'The request conflicts with an existing record', { cause: err });
  if (state.startsWith('22') || state === '54001') return new ApiError(400, ErrorCodes.validationFailed, 'A value in the request cannot be stored', { cause: err });
  return undefined;
}

/** What a 503 database_unavailable tells the client to wait before retrying, seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 3;

/**
 * The database is away (unreachable, restarting, dropped the connection, no connection free within
 * GOTRUE_DB_CONNECT_TIMEOUT): 503 database_unavailable, which the client may retry. A statement that outlived
 * GOTRUE_DB_STATEMENT_TIMEOUT: 504 request_timeout, as GoTrue answers a request that ran too long.
 */
function databaseOutage(err: unknown): ApiError | undefined {
  const failure = databaseFailure(err);
  if (failure === 'unavailable') {
    return new ApiError(503, ErrorCodes.databaseUnavailable, 'The database is unavailable, please retry after a moment.', { cause: err });
  }
  if (failure === 'timeout') {
    return new ApiError(504, ErrorCodes.requestTimeout, 'Processing this request timed out, please retry after a moment.', { cause: err });
  }
  return undefined;
}

/** Errors body-parser and the router raise for the request itself (http-errors with a 4xx status). */
function requestError(err: unknown): ApiError | undefined {
  const e = err as { type?: string; status?: unknown } | null;
  if (e?.type === 'entity.parse.failed') return new ApiError(400, ErrorCodes.badJson, 'Could not parse request body as JSON');
  if (e?.type === 'entity.too.large') return new ApiError(413, ErrorCodes.requestEntityTooLarge, 'Request body too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(400, ErrorCodes.badJson, 'Unsupported request body encoding');
  }
  if (typeof e?.status !== 'number' || e.status < 400 || e.status > 499) return undefined;
  // The router's decodeURIComponent of a path parameter (`/admin/users/%zz`).
  if (err instanceof URIError) return new ApiError(400, ErrorCodes.validationFailed, 'The request path is not valid percent-encoding', { cause: err });
  if (e.status === 413) return new ApiError(413, ErrorCodes.requestEntityTooLarge, 'Request body too large', { cause: err });
  // A Content-Encoding that does not decode (gzip that is not gzip), an aborted or mis-sized body.
  return new ApiError(400, ErrorCodes.badJson, 'Could not read the request body', { cause: err });
}

/** Maps anything thrown to an ApiError; unknown errors become 500 unexpected_failure. */
export function toApiError(err: unknown): ApiError {
  // A flow that wrapped a driver error as an internal failure still answers the outage as one.
  if (err instanceof ApiError) return (err.status === 500 && databaseOutage(err.cause)) || err;
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const params = (first?.code === 'custom' ? first.params : undefined) as IssueParams | undefined;
    const where = first && first.path.length > 0 && !params?.bare ? `${first.path.join('.')}: ` : '';
    return new ApiError(params?.status ?? 400, ErrorCodes.validationFailed, `${where}${first?.message ?? 'invalid input'}`);
  }
  const known = requestError(err) ?? databaseOutage(err) ?? databaseInputError(err);
  if (known) return known;
  return new ApiError(500, ErrorCodes.unexpectedFailure, 'Unexpected failure, please check server logs for more information', { cause: err });
}

/**
 * Logs an error as every answer (JSON or redirect) logs it: a 5xx at error with its error_id; a vendor that cannot
 * send, or a value the database refused, at warn (an operator's or a missing check's problem); any other cause at
 * debug. The cause is logged, never sent.
 */
export function logApiError(logger: Logger, err: ApiError, requestId: unknown, errorId = String(requestId ?? '')): void {
  // An outage is the operator's (the pool has warned already): one line with the driver's reason, no stack.
  if (err.code === ErrorCodes.databaseUnavailable) logger.warn({ reason: reason(err.cause), error_id: errorId, request_id: requestId }, err.message);
  else if (err.status >= 500) logger.error({ err: err.cause ?? err, error_id: errorId, request_id: requestId }, 'request failed');
  // A vendor that cannot send is an operator's problem (credentials, balance, outage): worth a warning.
  else if (err.code === ErrorCodes.smsSendFailed) logger.warn({ err: err.cause, request_id: requestId }, err.message);
  else if (sqlState(err.cause) !== undefined) logger.warn({ err: err.cause, request_id: requestId }, err.message);
  else if (err.cause !== undefined) logger.debug({ err: err.cause, request_id: requestId }, err.message);
}

function reason(cause: unknown): string | undefined {
  const e = cause as { code?: unknown; message?: unknown } | null | undefined;
  if (!e) return undefined;
  return [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ') || undefined;
}

/**
 * Writes the body GoTrue writes (contract §3): `{code, message}` for clients on API version ≥ 2024-01-01 (and the
 * version header echoed), else the legacy `{code: status, error_code, msg, error_id?}`; OAuth-style errors as
 * `{error, error_description}`. Always sets x-sb-error-code. A cause is logged, never sent.
 */
/**
 * The OAuth server's protocol endpoints (RFC 6749, 7009, 7662, OIDC userinfo): every error there, a rate limit or
 * a bad body included, is `{error, error_description}`. The consent-page and registration endpoints keep GoTrue's
 * shape, which auth-js reads.
 */
const OAUTH_PROTOCOL_PATH = /^(\/auth\/v1)?\/oauth\/(token|revoke|introspect|userinfo|authorize)\/?$/;

/** The RFC 6749 `error` of an error that carries none. */
function oauthErrorFor(status: number): string {
  if (status >= 500) return status === 503 ? 'temporarily_unavailable' : 'server_error';
  if (status === 429) return 'slow_down';
  return 'invalid_request';
}

export function sendError(req: Request, res: Response, err: ApiError, errorId: string, logger: Logger): void {
  logApiError(logger, err, req.id, errorId);
  res.setHeader('x-sb-error-code', err.code);
  res.setHeader('Cache-Control', 'no-store');
  if (err.code === ErrorCodes.databaseUnavailable) res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  const oauthError = err.oauth?.error ?? (OAUTH_PROTOCOL_PATH.test(req.path) ? oauthErrorFor(err.status) : undefined);
  if (oauthError) {
    if (err.status === 401 && oauthError === 'invalid_client') res.setHeader('WWW-Authenticate', 'Basic realm="oauth", error="invalid_client"');
    if (err.status === 401 && oauthError === 'invalid_token') res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${err.message.replace(/["\\]/g, '')}"`);
    res.status(err.status).json({ error: oauthError, error_description: err.message });
    return;
  }
  const version = requestedVersion(req);
  if (version !== undefined && version >= API_VERSION_2024_01_01) {
    res.setHeader('X-Supabase-Api-Version', API_VERSION_2024_01_01);
    res.status(err.status).json({ code: err.code, message: err.message, ...err.extra });
    return;
  }
  res.status(err.status).json({
    code: err.status,
    error_code: err.code,
    msg: err.message,
    ...(err.status >= 500 ? { error_id: errorId } : {}),
    ...err.extra,
  });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      // Already answered (a 504 from the timeout): the late handler's outcome is only worth a debug line.
      logger.debug({ err, request_id: req.id }, 'error after the response was sent');
      return;
    }
    sendError(req, res, toApiError(err), String(req.id ?? ''), logger);
  };
}
