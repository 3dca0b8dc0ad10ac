import { register } from 'node:module';
import { context, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Config } from '../config';
import { VERSION } from '../version';
import { setTraceFields, setTracingShutdown } from './trace-context';

/**
 * GOTRUE_TRACING_ENABLED: the OpenTelemetry SDK with spans for incoming HTTP (and Express's routing), pg queries
 * and outgoing fetch (undici), exported over OTLP/HTTP in batches. Endpoint, headers and timeouts come from the
 * standard OTEL_EXPORTER_OTLP_* variables, which the exporter reads itself (default http://localhost:4318).
 * Must run before the app's modules are loaded: main.ts imports this module, and serve, only when tracing is on,
 * so a server without tracing never loads the SDK. Returns the flush-and-stop for shutdown.
 */
export async function startTracing(config: Pick<Config, 'tracing'>): Promise<() => Promise<void>> {
  // ESM modules are patched through import-in-the-middle's loader hook; CommonJS ones (pg, express) on require.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const exporter: SpanExporter =
    config.tracing.protocol === 'http/json'
      ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
      : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': config.tracing.serviceName, 'service.version': VERSION }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // The global provider, AsyncLocalStorage context and W3C traceparent/baggage propagation (as GoTrue sets).
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation(),
      new ExpressInstrumentation(),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new UndiciInstrumentation(),
    ],
  });
  setTraceFields((): Record<string, string> => {
    const span = trace.getSpan(context.active());
    if (!span) return {};
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  });
  const stop = () => provider.shutdown();
  setTracingShutdown(stop);
  return stop;
}
