import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Router } from 'express';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { OPENAPI_COMMAND, OPENAPI_FILE, openApiJson } from '../../src/cli/openapi';
import { loadConfig } from '../../src/config';
import type { DatabaseHandle } from '../../src/db/database';
import { buildDeps } from '../../src/deps';
import { buildOpenApi } from '../../src/http/openapi';
import { routeRecords } from '../../src/http/route-table';
import { buildRouter } from '../../src/routes';
import { listRoutes } from '../helpers/routes';

// The router is built over deps with no database: building it opens nothing, and /openapi.json reads none.
const config = loadConfig({ GOTRUE_JWT_SECRET: 'x'.repeat(40), GOTRUE_DB_DATA_DIR: 'memory://', LOG_LEVEL: 'silent' });
const deps = buildDeps(config, { kind: 'pglite', namespace: 'auth' } as unknown as DatabaseHandle, pino({ level: 'silent' }));
type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown; parameters?: { name: string; in: string }[] }>> };
const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  const router: Router = buildRouter(deps);
  const doc = buildOpenApi(router) as Doc;

  it('is OpenAPI 3.1 and lists every route the route table mounts, with every method', () => {
    expect(doc.openapi).toBe('3.1.0');
    const routes = listRoutes(deps);
    expect(routes.length).toBeGreaterThan(40);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing, 'routes missing from the OpenAPI document').toEqual([]);
  });

  it('describes each line by its zod schemas: a body where one is parsed, path and query parameters, and the caller level', () => {
    for (const line of routeRecords(router)) {
      const op = doc.paths[openApiPath(line.path)]![line.method]!;
      expect(Boolean(op.requestBody), `${line.method} ${line.path} body`).toBe(Boolean(line.schemas.body));
      expect(Boolean(op.security), `${line.method} ${line.path} security`).toBe(line.auth !== 'none');
      for (const name of [...line.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])) {
        expect(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${line.path} names {${name}}`).toBe(true);
      }
    }
    expect(doc.paths['/admin/users']!.get!.parameters?.map((p) => p.name)).toContain('per_page');
  });

  it('is served at /openapi.json and /auth/v1/openapi.json, cacheable', async () => {
    const app = createApp(deps);
    const res = await request(app).get('/openapi.json').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=600');
    expect(res.body).toEqual(JSON.parse(openApiJson()));
    await request(app).get('/auth/v1/openapi.json').expect(200);
  });

  it(`is committed up to date in ${OPENAPI_FILE}`, () => {
    const committed = readFileSync(resolve(__dirname, '../..', OPENAPI_FILE), 'utf8');
    expect(committed === openApiJson(), `${OPENAPI_FILE} is stale: run \`${OPENAPI_COMMAND}\` and commit it`).toBe(true);
  });
});
