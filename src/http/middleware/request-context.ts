import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ApiError } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { sendError } from '../error-handler';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id requestLogging gives every request (X-Request-Id). */
    id: string;
  }
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Everything every request gets, in one middleware (each Express layer a request walks through costs it time, and
 * GET /health walks them all): a request id (the caller's X-Request-Id when it is sane, else a new UUID),
 * `Cache-Control: no-store` (responses carry credentials and user data: never cache them), the
 * API_MAX_REQUEST_DURATION timer (504 request_timeout; `timeoutMs` 0 = none) and one JSON access-log line per
 * request. Only method, path (no query string: it can carry tokens) and status are logged — never headers or
 * bodies. The line is pino-http's (`req: {id, method, path}`, `res: {statusCode}`, `responseTime`; "request
 * completed", "request aborted", or "request errored" at error level for a 5xx), written directly: pino-http
 * builds a child logger and serialises the request for every request, a fifth of GET /health's CPU when profiled.
 */
export function requestContext(logger: Logger, timeoutMs: number): RequestHandler {
  // The line holds only the fields above, so the logger's redaction (wildcard paths, a tenth of GET /health's CPU)
  // has nothing to find in it: access lines skip it.
  const access = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.setHeader('Cache-Control', 'no-store');
    req.id = id;
    const url = req.url;
    const q = url.indexOf('?');
    const request = { id, method: req.method, path: q < 0 ? url : url.slice(0, q) };
    const start = Date.now();
    const timer = timeoutMs > 0 ? setTimeout(() => timedOut(req, res, logger), timeoutMs) : undefined;
    timer?.unref();
    const done = (err?: Error) => {
      if (timer) clearTimeout(timer);
      res.removeListener('close', done);
      res.removeListener('finish', done);
      res.removeListener('error', done);
      const line = { req: request, res: { statusCode: res.statusCode }, responseTime: Date.now() - start };
      if (err || res.statusCode >= 500) {
        access.error({ ...line, err: err ?? new Error(`failed with status code ${res.statusCode}`) }, 'request errored');
      } else {
        access.info(line, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      }
    };
    res.on('close', done);
    res.on('finish', done);
    res.on('error', done);
    next();
  };
}

/** Answers 504 request_timeout when a request runs longer than API_MAX_REQUEST_DURATION. */
function timedOut(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1], logger: Logger): void {
  if (!res.headersSent) {
    sendError(req, res, new ApiError(504, ErrorCodes.requestTimeout, 'Processing this request timed out, please retry after a moment.'), String(req.id), logger);
  }
}
