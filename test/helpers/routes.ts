import type { Router } from 'express';
import { buildRouter } from '../../src/routes';
import type { Deps } from '../../src/deps';

/** One route as the router holds it: the method and the Express path pattern (`/admin/users/:user_id`). */
export interface MountedRoute {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  path: string;
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/**
 * Every route the route table mounts, read off the router `buildRouter` returns (its layer stack), so a route added
 * to src/routes.ts — through the table or a plain `r.get` — is listed without touching any test.
 */
export function listRoutes(deps: Deps): MountedRoute[] {
  const router: Router = buildRouter(deps);
  const stack = (router as unknown as { stack: RouterLayer[] }).stack;
  const out: MountedRoute[] = [];
  for (const layer of stack) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') out.push({ method: method as MountedRoute['method'], path: layer.route.path });
    }
  }
  return out;
}
