import type { RequestHandler } from 'express';
import type { Metrics } from '../../observability/metrics';

/**
 * Counts and times each request by method, route pattern and status once its response is finished (or the client
 * went away). The route is the matched pattern ('/admin/users/:user_id'), the same at / and /auth/v1; a request no
 * route matched is 'noroute' (as GoTrue labels it), so a scan of random URLs adds no label values.
 */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    // 'close' comes once per response: after it finished, or when the client went away first.
    res.once('close', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      metrics.request(req.method, typeof route === 'string' ? route : 'noroute', res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
