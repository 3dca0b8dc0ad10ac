import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { ApiError } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { sendError } from '../error-handler';

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * A request id (the caller's X-Request-Id when it is sane, else a new UUID) and one JSON access-log line per
 * request. Only method, path (no query string: it can carry tokens) and status are logged — never headers or
 * bodies.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    wrapSerializers: false,
  });
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
