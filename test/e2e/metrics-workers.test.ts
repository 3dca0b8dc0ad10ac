import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, startCliServer, type RunningServer } from '../helpers/cli';
import { sampleValue } from '../helpers/prometheus-text';
import { onPostgres, openTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const SPAWNING = { timeout: 180_000 };

// Workers need Postgres (the embedded database serves one process).
describe.runIf(onPostgres)('metrics with GOTRUE_WORKERS=2', SPAWNING, () => {
  const tempDir = useTempDirs('gotrue-metrics-workers-');
  let server: RunningServer;
  let db: TestDatabase;
  const metricsPort = freePort();

  beforeAll(async () => {
    db = await openTestDatabase();
    const env = cleanEnv({
      DATABASE_URL: testDatabaseUrl!,
      GOTRUE_DB_NAMESPACE: db.namespace,
      GOTRUE_JWT_SECRET: 'metrics-workers-secret-at-least-32-bytes',
      GOTRUE_SITE_URL: 'http://localhost:3000',
      API_EXTERNAL_URL: 'http://localhost:9999',
      GOTRUE_WORKERS: '2',
      GOTRUE_METRICS_ENABLED: 'true',
      GOTRUE_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    });
    server = await startCliServer(tempDir(), env, freePort());
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  it('the primary serves /metrics summed over the workers', async () => {
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    // Both workers report once each has built its metrics (gotrue_running is 1 per worker).
    const deadline = Date.now() + 60_000;
    while (sampleValue(await scrape(), 'gotrue_running') !== 2) {
      if (Date.now() > deadline) throw new Error('two workers never reported');
      await new Promise((r) => setTimeout(r, 200));
    }
    const before = sampleValue(await scrape(), 'gotrue_http_requests_total', { route: '/health', status: '200' }) ?? 0;
    // New connections each time, so the kernel spreads them over both workers.
    for (let i = 0; i < 20; i++) await fetch(`${server.url}/health`, { headers: { connection: 'close' } });
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_http_requests_total', { method: 'GET', route: '/health', status: '200' })).toBe(before + 20);
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'max' })).toBe(20);
  });
});
