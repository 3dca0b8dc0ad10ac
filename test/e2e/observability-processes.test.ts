import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, startCliServer, type RunningServer } from '../helpers/cli';
import { sampleValue } from '../helpers/prometheus-text';
import { onPostgres, openTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/test-db';
import { useTempDirs } from '../helpers/temp-dirs';

const SPAWNING = { timeout: 180_000 };

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

/** A local OTLP/HTTP receiver (the JSON encoding): keeps every export POSTed to /v1/traces. */
async function startOtlpReceiver(): Promise<{ server: Server; url: string; exports: OtlpExport[]; spans(): (OtlpSpan & { scope: string })[] }> {
  const exports: OtlpExport[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('application/json')) {
        exports.push(JSON.parse(body) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(404).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    spans: () => exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => ({ ...sp, scope: s.scope.name }))))),
  };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// One spawned server for both (a start costs ~15-30 s on a loaded machine): two workers, traces and metrics on.
// Postgres only: the pg spans need node-postgres, which the embedded database does not use; workers need Postgres;
// and a spawned embedded server with the loader hooks takes ~50 s to start on a loaded CI machine.
describe.runIf(onPostgres)('traces (GOTRUE_TRACING_ENABLED) and metrics summed over GOTRUE_WORKERS=2', SPAWNING, () => {
  const tempDir = useTempDirs('gotrue-tracing-');
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let server: RunningServer;
  let db: TestDatabase | undefined;
  const metricsPort = freePort();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // On Postgres the spawned server uses a migrated namespace of this file's own.
    db = await openTestDatabase();
    const database: Record<string, string> = db
      ? { DATABASE_URL: testDatabaseUrl!, GOTRUE_DB_NAMESPACE: db.namespace, GOTRUE_SITE_URL: 'http://localhost:3000', API_EXTERNAL_URL: 'http://localhost:9999' }
      : { GOTRUE_DB_DATA_DIR: `${tempDir()}/data` };
    const env = cleanEnv({
      ...database,
      GOTRUE_JWT_SECRET: 'tracing-test-secret-at-least-32-bytes-long',
      GOTRUE_MAILER_AUTOCONFIRM: 'true',
      GOTRUE_EXTERNAL_GITHUB_ENABLED: 'true',
      GOTRUE_EXTERNAL_GITHUB_CLIENT_ID: 'tracing-client',
      GOTRUE_EXTERNAL_GITHUB_SECRET: 'tracing-secret',
      GOTRUE_EXTERNAL_GITHUB_URL: receiver.url,
      GOTRUE_TRACING_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'gotrue-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      GOTRUE_WORKERS: '2',
      GOTRUE_METRICS_ENABLED: 'true',
      GOTRUE_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      GOTRUE_LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    });
    server = await startCliServer(tempDir(), env, freePort());
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => receiver?.server.close(() => resolve()));
    await db?.close();
  });

  it('exports an HTTP server span per request, labelled by route, continuing the caller’s traceparent, and the log line carries its trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${server.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ email: `trace-${Date.now()}@example.com`, password: 'pass-word-1' }),
    });
    expect(res.status).toBe(200);
    const span = await until('the /signup server span', () =>
      receiver.spans().find((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-http' && s.kind === 2),
    );
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    expect(attr(span, 'http.route') ?? span.name).toContain('/signup');
    const resource = receiver.exports[0]!.resourceSpans[0]!.resource.attributes;
    expect(resource.find((a) => a.key === 'service.name')?.value.stringValue).toBe('gotrue-under-test');

    const logged = server
      .output()
      .stdout.split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { trace_id?: string; req?: { path?: string } })
      .find((l) => l.req?.path === '/signup');
    expect(logged?.trace_id).toBe(traceId);

    // The same trace holds the pg query spans of the signup transaction.
    const pgSpans = await until('pg spans in the signup trace', () => {
      const found = receiver.spans().filter((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-pg');
      return found.length >= 2 ? found : undefined;
    });
    expect(pgSpans.some((s) => attr(s, 'db.system') === 'postgresql' || attr(s, 'db.system.name') === 'postgresql')).toBe(true);
  });

  it('exports a client span for an outgoing fetch (undici) inside the request that made it', async () => {
    // GitHub's web flow pointed at the receiver: /callback exchanges the code with a POST to <url>/login/oauth/access_token.
    const start = await fetch(`${server.url}/authorize?provider=github`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${server.url}/callback?code=abc&state=${encodeURIComponent(state)}`, { redirect: 'manual', headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    const client = await until('the token-exchange fetch span', () =>
      receiver.spans().find((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-undici' && s.kind === 3),
    );
    expect(String(attr(client, 'url.full'))).toBe(`${receiver.url}/login/oauth/access_token`);
    expect(attr(client, 'http.request.method')).toBe('POST');
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
    // GOTRUE_DB_MAX_POOL_SIZE (10) per worker, summed.
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'max' })).toBe(20);
  });
});
