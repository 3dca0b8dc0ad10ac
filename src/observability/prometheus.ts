import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from './metrics';

/** A pg pool's occupancy; the embedded database has no pool. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Latency buckets for API requests, seconds: 1 ms to 10 s (GOTRUE_API_MAX_REQUEST_DURATION's default). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** argon2id at OWASP's parameters takes tens of milliseconds; bcrypt imports can take longer. */
const HASH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const HOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
}

/**
 * The server's metrics in a registry of their own (prefix gotrue_, plus Node's default process metrics). `pool`
 * is read at scrape time. In a cluster worker the registry is the one the primary's aggregator asks for.
 */
export function createPrometheusMetrics(pool?: () => PoolStats | undefined): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (cluster.isWorker) {
    // The aggregator's constructor installs the worker's answer to the primary's scrape requests.
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
  }
  const registers = [registry];
  new Gauge({ name: 'gotrue_running', help: 'Whether GoTrue is running (always 1; summed across workers)', registers }).set(1);
  const requests = new Counter({ name: 'gotrue_http_requests_total', help: 'HTTP requests by method, route pattern and status', labelNames: ['method', 'route', 'status'] as const, registers });
  const latency = new Histogram({
    name: 'gotrue_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const grants = new Counter({ name: 'gotrue_token_grants_total', help: 'POST /token grants by grant_type and outcome', labelNames: ['grant_type', 'outcome'] as const, registers });
  const hashes = new Histogram({ name: 'gotrue_password_hash_duration_seconds', help: 'Password hashing time by operation (hash, verify, burn)', labelNames: ['operation'] as const, buckets: HASH_BUCKETS, registers });
  const refusals = new Counter({ name: 'gotrue_rate_limit_refusals_total', help: 'Requests refused by a rate-limit bucket', labelNames: ['bucket'] as const, registers });
  const mails = new Counter({ name: 'gotrue_mail_sends_total', help: 'Account mails handed to the transport, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers });
  const sms = new Counter({ name: 'gotrue_sms_sends_total', help: 'SMS handed to the vendor, by provider and outcome', labelNames: ['provider', 'outcome'] as const, registers });
  const hooks = new Counter({ name: 'gotrue_hook_calls_total', help: 'Auth hook calls by hook and outcome', labelNames: ['hook', 'outcome'] as const, registers });
  const hookLatency = new Histogram({ name: 'gotrue_hook_duration_seconds', help: 'Auth hook call time by hook', labelNames: ['hook'] as const, buckets: HOOK_BUCKETS, registers });
  if (pool) {
    new Gauge({
      name: 'gotrue_db_pool_connections',
      help: 'Database pool connections by state: total (open), idle, in_use, waiting (callers queued for one), max',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const s = pool();
        if (!s) return;
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'in_use' }, s.total - s.idle);
        this.set({ state: 'waiting' }, s.waiting);
        this.set({ state: 'max' }, s.max);
      },
    });
  }
  const children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  return {
    enabled: true,
    registry,
    request(method, route, status, seconds) {
      // The label children are looked up once per (method, route, status): a request then costs two increments.
      const key = `${method} ${route} ${status}`;
      let series = children.get(key);
      if (!series) {
        const labels = { method, route, status: String(status) };
        series = { count: requests.labels(labels), time: latency.labels(labels) };
        children.set(key, series);
      }
      series.count.inc();
      series.time.observe(seconds);
    },
    grant: (type, outcome) => grants.inc({ grant_type: type, outcome }),
    passwordHash: (operation, seconds) => hashes.observe({ operation }, seconds),
    rateLimited: (bucket) => refusals.inc({ bucket }),
    mail: (kind, outcome) => mails.inc({ kind, outcome }),
    sms: (provider, outcome) => sms.inc({ provider, outcome }),
    hook(name, outcome, seconds) {
      hooks.inc({ hook: name, outcome });
      hookLatency.observe({ hook: name }, seconds);
    },
  };
}

/**
 * The /metrics listener (OTEL_EXPORTER_PROMETHEUS_HOST:PORT, apart from the API). In a cluster primary it answers
 * the sum over the workers (prom-client's AggregatorRegistry); otherwise `registry`'s own metrics.
 */
export async function startMetricsServer(host: string, port: number, registry?: Registry): Promise<Server> {
  const aggregator = registry ? undefined : new AggregatorRegistry();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    const body = registry ? registry.metrics() : aggregator!.clusterMetrics();
    body.then(
      (text) => res.writeHead(200, { 'content-type': (registry ?? aggregator!).contentType }).end(text),
      () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  // A slow client cannot hold the listener (as GoTrue's ReadHeaderTimeout).
  server.headersTimeout = 2_000;
  server.requestTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return server;
}
