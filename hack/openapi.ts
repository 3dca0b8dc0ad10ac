// `npm run openapi`: writes openapi.json from the route table (src/routes.ts) and its zod schemas.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiJson, OPENAPI_FILE } from '../src/cli/openapi';

const file = resolve(import.meta.dirname, '..', OPENAPI_FILE);
writeFileSync(file, openApiJson());
console.log(`wrote ${file}`);
