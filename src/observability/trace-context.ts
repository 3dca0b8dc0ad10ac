/**
 * The fields a log line carries while tracing is on: the active span's trace_id and span_id. Set by tracing.ts
 * once the SDK is loaded; the logger's mixin calls it, and @opentelemetry/api is never loaded when tracing is off.
 */
let current: () => Record<string, string> = () => ({});

export function traceFields(): Record<string, string> {
  return current();
}

export function setTraceFields(f: () => Record<string, string>): void {
  current = f;
}

let shutdown: () => Promise<void> = () => Promise.resolve();

/** Exports the spans still buffered and stops the SDK (serve calls it on SIGTERM); nothing when tracing is off. */
export function shutdownTracing(): Promise<void> {
  return shutdown();
}

export function setTracingShutdown(f: () => Promise<void>): void {
  shutdown = f;
}
