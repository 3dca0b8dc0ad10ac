import { z } from 'zod';
import { PageQuery, pageWindow, parsePagination, setPaginationHeaders } from '../../api/admin/pagination';
import { createResource, deleteResource, getResource, listResources, resourceJson, updateResource } from '../../domain/oauth-resources';
import { endpoint } from '../../http/endpoint';

/** Thin handlers for resource servers (issue 15, item 4): GET|POST /admin/oauth/resources, GET|PUT|DELETE /{id}. */

const text = (max: number) => z.string().max(max).nullish().transform((v) => v ?? undefined);
const ResourceBody = z.object({
  resource: text(2048),
  name: text(1024),
  scopes: z
    .array(z.object({ name: z.string().max(256), description: z.string().max(4096).nullish() }))
    .max(256)
    .nullish()
    .transform((v) => v ?? undefined),
  access_token_ttl: z.number().int().nullish(),
  signing_alg: z.string().max(32).nullish(),
});
const ResourcePath = z.object({ id: z.string().max(64) });

/** GET /admin/oauth/resources?page=&per_page= → {resources}, oldest first, with GoTrue's pagination headers (as the clients' list) */
export const adminListResources = endpoint({ auth: 'admin', query: z.object(PageQuery) }, async ({ query, url, res }, deps) => {
  const page = parsePagination(query);
  const { rows, total } = await listResources(deps, pageWindow(page));
  setPaginationHeaders(url, res, page, total);
  return { resources: rows.map((r) => resourceJson(deps.config, r)) };
});

/** POST /admin/oauth/resources → 201 the resource */
export const adminCreateResource = endpoint({ auth: 'admin', body: ResourceBody }, async ({ body, res }, deps) => {
  const r = await createResource(deps, body);
  res.status(201);
  return resourceJson(deps.config, r);
});

/** GET /admin/oauth/resources/{id} */
export const adminGetResource = endpoint({ auth: 'admin', params: ResourcePath }, async ({ params }, deps) => resourceJson(deps.config, await getResource(deps, params.id)));

/** PUT /admin/oauth/resources/{id}: replaces name, scopes, lifetime, alg (the URI stays) */
export const adminUpdateResource = endpoint({ auth: 'admin', params: ResourcePath, body: ResourceBody }, async ({ params, body }, deps) =>
  resourceJson(deps.config, await updateResource(deps, params.id, body)),
);

/** DELETE /admin/oauth/resources/{id} → 204; the sessions bound to it end */
export const adminDeleteResource = endpoint({ auth: 'admin', params: ResourcePath }, async ({ params, res }, deps) => {
  await deleteResource(deps, params.id);
  res.status(204).end();
  return undefined;
});
