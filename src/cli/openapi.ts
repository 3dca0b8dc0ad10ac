import pino from 'pino';
import { loadConfig } from '../config';
import type { DatabaseHandle } from '../db/database';
import { buildDeps } from '../deps';
import { buildOpenApi } from '../http/openapi';
import { buildRouter } from '../routes';

/** Where `npm run openapi` writes the document, relative to the repository. */
export const OPENAPI_FILE = 'openapi.json';
/** The command that regenerates it. */
export const OPENAPI_COMMAND = 'npm run openapi';

/**
 * The OpenAPI document as committed: the route table built over default settings. Building the router opens
 * nothing (handlers reach the database only when called), so no database is needed.
 */
export function openApiJson(): string {
  const config = loadConfig({ GOTRUE_JWT_SECRET: 'openapi-document-needs-no-real-secret!', GOTRUE_DB_DATA_DIR: 'memory://', LOG_LEVEL: 'silent' });
  const noDatabase = { kind: 'pglite', namespace: config.db.namespace } as unknown as DatabaseHandle;
  const deps = buildDeps(config, noDatabase, pino({ level: 'silent' }));
  return `${JSON.stringify(buildOpenApi(buildRouter(deps)), null, 2)}\n`;
}
