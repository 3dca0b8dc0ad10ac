import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
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

/** Maps anything thrown to an ApiError; unknown errors become 500 unexpected_failure. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
    return new ApiError(400, ErrorCodes.validationFailed, `${where}${first?.message ?? 'invalid input'}`);
  }
  const e = err as { type?: string; status?: number };
  if (e?.type === 'entity.parse.failed') return new ApiError(400, ErrorCodes.badJson, 'Could not parse request body as JSON');
  if (e?.type === 'entity.too.large') return new ApiError(413, ErrorCodes.requestEntityTooLarge, 'Request body too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(400, ErrorCodes.badJson, 'Unsupported request body encoding');
  }
  return new ApiError(500, ErrorCodes.unexpectedFailure, 'Unexpected failure, please check server logs for more information', { cause: err });
}

/**
 * Writes the body GoTrue writes (contract §3): `{code, message}` for clients on API version ≥ 2024-01-01 (and the
 * version header echoed), else the legacy `{code: status, error_code, msg, error_id?}`; OAuth-style errors as
 * `{error, error_description}`. Always sets x-sb-error-code. A cause is logged, never sent.
 */
export function sendError(req: Request, res: Response, err: ApiError, errorId: string, logger: Logger): void {
  if (err.status >= 500) logger.error({ err: err.cause ?? err, error_id: errorId, request_id: req.id }, 'request failed');
  // A vendor that cannot send is an operator's problem (credentials, balance, outage): worth a warning.
  else if (err.code === ErrorCodes.smsSendFailed) logger.warn({ err: err.cause, request_id: req.id }, err.message);
  else if (err.cause !== undefined) logger.debug({ err: err.cause, request_id: req.id }, err.message);
  res.setHeader('x-sb-error-code', err.code);
  res.setHeader('Cache-Control', 'no-store');
  if (err.oauth) {
    res.status(err.status).json({ error: err.oauth.error, error_description: err.message });
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
