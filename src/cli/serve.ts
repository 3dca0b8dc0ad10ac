import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from '../app';
import type { Config } from '../config';
import type { DatabaseHandle } from '../db/database';
import { buildDeps } from '../deps';
import { startHousekeeping } from '../domain/housekeeping';
import { createHttpServer } from '../http/http-server';
import { VERSION } from '../version';
import { openConfiguredDatabase, prepareSchema } from './database';
import { keysBanner, resolveSecret } from './embedded';
import { firstRunClientsBanner } from './first-run-clients';
import { metricsForPrimary, startMetrics } from './metrics';
import { createLogger } from './logger';
import { shutdownTracing } from '../observability/trace-context';
import { startupWarnings } from './startup-warnings';

/** Shutdown grace: in-flight requests get this long after SIGTERM. */
const SHUTDOWN_GRACE_MS = 10_000;

/** `./gotrue serve`: one process, or a primary and GOTRUE_WORKERS workers sharing the port. */
export async function serve(baseConfig: Config): Promise<void> {
  const logger = createLogger(baseConfig);
  if (cluster.isPrimary) {
    // The database first: on the embedded one that takes the data folder's lock, and only its owner may create
    // the secret kept there (a second serve is refused before it writes anything).
    const database = await openConfiguredDatabase(baseConfig, { logger });
    let resolved: ReturnType<typeof resolveSecret>;
    try {
      resolved = resolveSecret(baseConfig);
      await prepareSchema(database, logger);
    } catch (err) {
      await database.destroy();
      throw err;
    }
    const { config, generated } = resolved;
    if (generated) process.stderr.write((await keysBanner(config)) + '\n');
    // Embedded + OAuth server on + no client ever: two example clients, printed once (issue 15).
    const clients = await firstRunClientsBanner(config, database).catch(async (err: unknown) => {
      await database.destroy();
      throw err;
    });
    if (clients) process.stderr.write(clients + '\n');
    for (const warning of startupWarnings(config)) logger.warn({ startup_warning: true }, warning);
    if (config.api.workers > 1) {
      await database.destroy();
      await assertPortFree(config);
      await metricsForPrimary(config, logger);
      return runPrimary(config, logger);
    }
    return runServer(config, logger, database);
  }
  return runServer(resolveSecret(baseConfig).config, logger, await openConfiguredDatabase(baseConfig, { logger }));
}

/** Workers listen on the primary's behalf: try the port here first, so a port in use is one error, not one per worker. */
async function assertPortFree(config: Config): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port: config.api.port, ...(config.api.host ? { host: config.api.host } : {}) }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

async function runServer(config: Config, logger: Logger, database: DatabaseHandle): Promise<void> {
  const observed = await startMetrics(config, logger, database, cluster.isWorker);
  const deps = buildDeps(config, database, logger, observed ? { metrics: observed.metrics } : {});
  const app = createApp(deps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = createHttpServer(app, logger);
    s.once('error', reject);
    s.listen({ port: config.api.port, ...(config.api.host ? { host: config.api.host } : {}) }, () => resolve(s));
  });
  server.keepAliveTimeout = 65_000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.api.port;
  // GOTRUE_DB_CLEANUP_ENABLED: every server runs the loop; the advisory lock lets one of them clean at a time.
  const housekeeper = config.cleanup.enabled ? startHousekeeping(deps) : undefined;
  logger.info({ version: VERSION, port, host: config.api.host || '*', database: database.kind, pid: process.pid }, `GoTrue API started on port ${port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    // Issue 15: back-channel logout deliveries already started get the grace period to finish.
    await Promise.race([deps.backchannelLogout.idle(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    await housekeeper?.stop();
    await observed?.close();
    await shutdownTracing();
    await database.destroy();
    logger.info('stopped');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function runPrimary(config: Config, logger: Logger): Promise<void> {
  let stopping = false;
  let exitCode = 0;
  const listening = new Set<number>();
  for (let i = 0; i < config.api.workers; i++) cluster.fork();
  cluster.on('listening', (worker) => listening.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!listening.has(worker.id)) {
      // It failed before listening (port in use, database gone) and printed why; another would fail the same way.
      logger.error({ pid: worker.process.pid, code, signal }, 'a worker failed to start; stopping');
      exitCode = 1;
      stop('SIGTERM');
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info({ workers: config.api.workers }, 'primary started workers');
  return Promise.resolve();
}
