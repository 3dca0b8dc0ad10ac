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
 * A request id (the caller's X-Request-Id when it is sane, else a new UUID) and one JSON access-log line per
 * request. Only method, path (no query string: it can carry tokens) and status are logged — never headers or
 * bodies. The line is pino-http's (`req: {id, method, path}`, `res: {statusCode}`, `responseTime`; "request
 * completed", "request aborted", or "request errored" at error level for a 5xx), written directly: pino-http
 * builds a child logger and serialises the request for every request, a fifth of GET /health's CPU when profiled.
 */
export function requestLogging(logger: Logger): RequestHandler {
  // The line holds only the fields above, so the logger's redaction (wildcard paths, a tenth of GET /health's CPU)
  // has nothing to find in it: access lines skip it.
  const access = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    req.id = id;
    const url = req.url;
    const q = url.indexOf('?');
    const request = { id, method: req.method, path: q < 0 ? url : url.slice(0, q) };
    const start = Date.now();
    const done = (err?: Error) => {
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

/** Responses carry credentials and user data: never cache them. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** Answers 504 request_timeout when a request runs longer than API_MAX_REQUEST_DURATION. */
export function requestTimeout(ms: number, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (ms <= 0) {
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        sendError(req, res, new ApiError(504, ErrorCodes.requestTimeout, 'Processing this request timed out, please retry after a moment.'), String(req.id), logger);
      }
    }, ms);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
    next();
  };
}
