import type { RequestHandler, Router } from 'express';
import { buildOpenApi } from '../http/openapi';

/** GET /openapi.json: the document of the router it is mounted on, built on first request and then kept. */
export function openApiDocument(router: Router): RequestHandler {
  let doc: unknown;
  return (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=600');
    res.json((doc ??= buildOpenApi(router)));
  };
}
