import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { DatabaseHandle } from '../db/database';
import type { Metrics } from '../observability/metrics';

export interface RunningMetrics {
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * GOTRUE_METRICS_ENABLED: prom-client is loaded only then. A single process serves its own /metrics; a cluster
 * worker only records (its primary serves the sum over the workers, see metricsForPrimary).
 */
export async function startMetrics(config: Config, logger: Logger, database: DatabaseHandle, isWorker: boolean): Promise<RunningMetrics | undefined> {
  if (!config.metrics.enabled) return undefined;
  const { createPrometheusMetrics, startMetricsServer } = await import('../observability/prometheus');
  const metrics = createPrometheusMetrics(database.poolStats && (() => database.poolStats?.()));
  if (isWorker) return { metrics, close: () => Promise.resolve() };
  const server = await startMetricsServer(config.metrics.host, config.metrics.port, metrics.registry);
  return { metrics, close: listening(server, config, logger) };
}

/** The cluster primary's /metrics: every worker's metrics, summed (prom-client's AggregatorRegistry). */
export async function metricsForPrimary(config: Config, logger: Logger): Promise<(() => Promise<void>) | undefined> {
  if (!config.metrics.enabled) return undefined;
  const { startMetricsServer } = await import('../observability/prometheus');
  return listening(await startMetricsServer(config.metrics.host, config.metrics.port), config, logger);
}

function listening(server: Server, config: Config, logger: Logger): () => Promise<void> {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.metrics.port;
  logger.info({ metrics_port: port, host: config.metrics.host }, `Prometheus metrics on http://${config.metrics.host}:${port}/metrics`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
