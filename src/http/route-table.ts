import type { RequestHandler, Router } from 'express';
import type { Deps } from '../deps';
import type { AuthLevel, Endpoint, EndpointSchemas } from './endpoint';

type Method = 'get' | 'post' | 'put' | 'delete';

/** One line of the route table as the OpenAPI document reads it. */
export interface RouteRecord {
  method: Method;
  /** The Express pattern ('/admin/users/:user_id'). */
  path: string;
  auth: AuthLevel;
  schemas: EndpointSchemas;
}

const recorded = new WeakMap<Router, RouteRecord[]>();

/** The lines routeTable mounted on this router, in order (plain `r.get` routes are not among them). */
export function routeRecords(r: Router): readonly RouteRecord[] {
  return recorded.get(r) ?? [];
}
type Mount = <A extends AuthLevel>(path: string, before: RequestHandler | RequestHandler[], auth: A, handler: Endpoint<NoInfer<A>>) => void;

/**
 * Binds endpoints to a router, one line per route: the path, what runs before the handler (its rate-limit bucket),
 * the caller level and the handler. The level a line shows must be the one the endpoint enforces: a type error,
 * and an error at startup.
 */
export function routeTable(r: Router, deps: Deps): Record<Method, Mount> {
  const mount =
    (method: Method): Mount =>
    (path, before, auth, handler) => {
      if (handler.auth !== auth) throw new Error(`${method.toUpperCase()} ${path}: the route table says ${auth}, the endpoint enforces ${handler.auth}`);
      // `unlimited` only passes the request on: left out of the route's stack, it costs the router no step.
      r[method](path, ...[before].flat().filter((h) => h !== unlimited), handler.handler(deps));
      const lines = recorded.get(r) ?? [];
      lines.push({ method, path, auth, schemas: handler.schemas ?? {} });
      recorded.set(r, lines);
    };
  return { get: mount('get'), post: mount('post'), put: mount('put'), delete: mount('delete') };
}

/** The bucket of a route no rate limit applies to. */
export const unlimited: RequestHandler = (_req, _res, next) => next();
