import express, { type Express, type RequestHandler } from 'express';
import type { Deps } from './deps';
import { ApiError } from './errors/api-error';
import { ErrorCodes } from './errors/codes';
import { errorHandler } from './http/error-handler';
import { corsPolicy } from './http/middleware/cors';
import { noStore, requestLogging, requestTimeout } from './http/middleware/request-context';
import { requestMetrics } from './http/middleware/request-metrics';
import { buildRouter } from './routes';

/** body-parser turns an empty body into {}; GoTrue answers it as unreadable JSON, so keep it absent. */
const emptyBodyIsNoBody: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  if (length === '0' || (length === undefined && req.headers['transfer-encoding'] === undefined)) req.body = undefined;
  next();
};

/** The Express app: middleware, the route table (at / and at /auth/v1), the error handler. No listen(). */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  if (deps.metrics.enabled) app.use(requestMetrics(deps.metrics));
  app.use(requestLogging(deps.logger));
  app.use(requestTimeout(deps.config.api.maxRequestDurationMs, deps.logger));
  app.use(corsPolicy(deps.config));
  app.use(noStore);
  // Providers answering with response_mode=form_post (Apple) POST a form to /callback; body-parser then skips JSON.
  app.use(['/callback', '/auth/v1/callback'], express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  // GoTrue reads every body as JSON, whatever its Content-Type says.
  // The OAuth server's protocol endpoints take form posts (RFC 6749 §3.2, RFC 7009, RFC 7662); JSON is read too.
  const oauthForms = ['/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/userinfo', '/oauth/logout'];
  app.use([...oauthForms, ...oauthForms.map((p) => `/auth/v1${p}`)], express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  // The hosted pages' HTML forms (GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED).
  app.use(['/oauth/pages', '/auth/v1/oauth/pages'], express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
  app.use(express.json({ limit: '1mb', strict: true, type: () => true }));
  app.use(emptyBodyIsNoBody);

  const router = buildRouter(deps);
  app.use('/auth/v1', router);
  app.use('/', router);

  app.use(() => {
    throw new ApiError(404, ErrorCodes.notFound, 'Not Found');
  });
  app.use(errorHandler(deps.logger));
  return app;
}
