import type { Router } from 'express';
import { z, type ZodType } from 'zod';
import { VERSION } from '../version';
import type { AuthLevel } from './endpoint';
import { routeRecords, type RouteRecord } from './route-table';

type JsonObject = Record<string, unknown>;

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

const AUTH_NOTE: Record<AuthLevel, string> = {
  none: '',
  user: 'Requires a signed-in user: `Authorization: Bearer <access token>`.',
  admin: 'Requires an admin: a bearer JWT whose role is in GOTRUE_JWT_ADMIN_ROLES (service_role).',
  backend: 'Requires an admin JWT (as admin) or `X-API-Key: <GOTRUE_OAUTH_SERVER_API_KEY>`.',
};

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a client sends: the input side of transforms. */
function jsonSchema(schema: ZodType): JsonObject {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}

/** An object schema's properties as OpenAPI parameters of one location. */
function parameters(schema: ZodType | undefined, where: 'query' | 'path', pathNames: string[]): JsonObject[] {
  const props = schema ? ((jsonSchema(schema).properties ?? {}) as Record<string, JsonObject>) : {};
  const required = new Set(schema ? ((jsonSchema(schema).required ?? []) as string[]) : []);
  const names = where === 'path' ? [...new Set([...pathNames, ...Object.keys(props)])] : Object.keys(props);
  return names.map((name) => ({ name, in: where, required: where === 'path' || required.has(name), schema: props[name] ?? { type: 'string' } }));
}

function operation(method: string, path: string, line: RouteRecord | undefined): JsonObject {
  const pathNames = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const auth = line?.auth ?? 'none';
  const op: JsonObject = {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    ...(AUTH_NOTE[auth] ? { description: AUTH_NOTE[auth] } : {}),
    ...(auth === 'backend' ? { security: [{ bearerAuth: [] }, { apiKey: [] }] } : auth !== 'none' ? { security: [{ bearerAuth: [] }] } : {}),
    'x-auth': auth,
  };
  const params = [...parameters(line?.schemas.params, 'path', pathNames), ...parameters(line?.schemas.query, 'query', [])];
  if (params.length > 0) op.parameters = params;
  if (line?.schemas.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(line.schemas.body) } } };
  op.responses = {
    '200': { description: 'Success (JSON; some endpoints answer 204, 303 or a redirect instead)' },
    default: { $ref: '#/components/responses/Error' },
  };
  return op;
}

/**
 * The OpenAPI 3.1 document of a router built by buildRouter: every route on its layer stack (so none can be left
 * out), with the caller level and the body, query and path schemas the route table recorded for it. Paths are
 * served at / and at /auth/v1.
 */
export function buildOpenApi(router: Router): JsonObject {
  const lines = new Map(routeRecords(router).map((l) => [`${l.method} ${l.path}`, l]));
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const layer of (router as unknown as { stack: RouterLayer[] }).stack) {
    const path = layer.route?.path;
    if (typeof path !== 'string') continue;
    for (const [method, on] of Object.entries(layer.route!.methods)) {
      if (!on || method === '_all') continue;
      const key = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      (paths[key] ??= {})[method] = operation(method, path, lines.get(`${method} ${path}`));
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'gotrue-ts',
      version: VERSION,
      description: 'A GoTrue-compatible auth API. Generated from src/routes.ts and its zod schemas by `npm run openapi`.',
    },
    servers: [{ url: '/' }, { url: '/auth/v1' }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      responses: {
        Error: {
          description: 'An error: HTTP status with a stable error_code (also in the x-sb-error-code header)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { code: { type: 'integer' }, error_code: { type: 'string' }, msg: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
