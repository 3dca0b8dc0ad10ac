import express, { type Express, type RequestHandler } from 'express';
import type { Deps } from './deps';
import { ApiError } from './errors/api-error';
import { ErrorCodes } from './errors/codes';
import { errorHandler } from './http/error-handler';
import { corsPolicy } from './http/middleware/cors';
import { requestContext } from './http/middleware/request-context';
import { requestMetrics } from './http/middleware/request-metrics';
import { buildRouter } from './routes';

/** The OAuth server's protocol endpoints take form posts (RFC 6749 §3.2, RFC 7009, RFC 7662); JSON is read too. */
const OAUTH_FORMS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/userinfo', '/oauth/logout'];
/**
 * Providers answering with response_mode=form_post (Apple) POST a form to /callback; body-parser then skips JSON.
 * The hosted pages' HTML forms (GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED) post to /oauth/pages.
 */
const FORM_PATHS = ['/callback', ...OAUTH_FORMS, '/oauth/pages'].flatMap((p) => [p, `/auth/v1${p}`]);

/** Whether a path is one of FORM_PATHS or under one, as `app.use(path)` matches (case-insensitive, by segment). */
function takesForms(path: string): boolean {
  const p = path.toLowerCase();
  return FORM_PATHS.some((f) => p === f || p.startsWith(`${f}/`));
}

/**
 * The request body, in one middleware: absent when the request has none — body-parser would turn an empty body into
 * {}, and GoTrue answers it as unreadable JSON, so it stays undefined — else read as JSON whatever its Content-Type
 * says (as GoTrue does), after a form when the path takes forms. One layer rather than four (two of them matched
 * against a dozen path patterns): a GET walks past it with one header check.
 */
function requestBody(): RequestHandler {
  const json = express.json({ limit: '1mb', strict: true, type: () => true });
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });
  return (req, res, next) => {
    const length = req.headers['content-length'];
    if (length === '0' || (length === undefined && req.headers['transfer-encoding'] === undefined)) {
      req.body = undefined;
      next();
      return;
    }
    if (!takesForms(req.path)) {
      json(req, res, next);
      return;
    }
    form(req, res, (err?: unknown) => (err ? next(err) : json(req, res, next)));
  };
}

/** The Express app: middleware, the route table (at / and at /auth/v1), the error handler. No listen(). */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  // GoTrue sends no ETag (Go's net/http adds none): hashing every JSON body for one cost GET /health time for nothing.
  app.set('etag', false);

  if (deps.metrics.enabled) app.use(requestMetrics(deps.metrics));
  app.use(requestContext(deps.logger, deps.config.api.maxRequestDurationMs));
  app.use(corsPolicy(deps.config));
  app.use(requestBody());

  const router = buildRouter(deps);
  app.use('/auth/v1', router);
  app.use('/', router);

  app.use(() => {
    throw new ApiError(404, ErrorCodes.notFound, 'Not Found');
  });
  app.use(errorHandler(deps.logger));
  return app;
}
