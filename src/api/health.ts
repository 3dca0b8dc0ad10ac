import { endpoint } from '../http/endpoint';
import { VERSION } from '../version';

/** GET /health */
export const health = endpoint({ auth: 'none' }, () => ({
  version: VERSION,
  name: 'GoTrue',
  description: 'GoTrue is a user registration and authentication API',
}));

/** How long the readiness check waits for `select 1`. */
export const READY_TIMEOUT_MS = 2_000;

/**
 * GET /health/ready (this server's, beside GoTrue's static /health): 200 once the database answers `select 1`
 * within READY_TIMEOUT_MS, else 503 database_unavailable with Retry-After. For load balancers and HEALTHCHECKs.
 */
export const healthReady = endpoint({ auth: 'none' }, async (_ctx, deps) => {
  await deps.database.ping(READY_TIMEOUT_MS);
  return { status: 'ok', database: 'ok' };
});
