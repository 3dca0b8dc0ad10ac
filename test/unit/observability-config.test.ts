import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';

const env = { GOTRUE_DB_DATA_DIR: 'memory://' };

describe('metrics and tracing settings (GoTrue names)', () => {
  it('are off by default, with GoTrue’s defaults', () => {
    const c = loadConfig(env);
    expect(c.metrics).toEqual({ enabled: false, exporter: 'opentelemetry', host: '0.0.0.0', port: 9100 });
    expect(c.tracing).toEqual({ enabled: false, protocol: 'http/protobuf', serviceName: 'gotrue' });
  });

  it('read the Prometheus listener from OTEL_EXPORTER_PROMETHEUS_* and the GOTRUE_METRICS_-prefixed names (which win)', () => {
    const c = loadConfig({ ...env, GOTRUE_METRICS_ENABLED: 'true', GOTRUE_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '9200' });
    expect(c.metrics).toEqual({ enabled: true, exporter: 'prometheus', host: '127.0.0.1', port: 9200 });
    const prefixed = loadConfig({ ...env, OTEL_EXPORTER_PROMETHEUS_PORT: '9200', GOTRUE_METRICS_OTEL_EXPORTER_PROMETHEUS_PORT: '9300' });
    expect(prefixed.metrics.port).toBe(9300);
  });

  it('name the service by OTEL_SERVICE_NAME, else GOTRUE_TRACING_SERVICE_NAME', () => {
    expect(loadConfig({ ...env, GOTRUE_TRACING_SERVICE_NAME: 'auth' }).tracing.serviceName).toBe('auth');
    expect(loadConfig({ ...env, GOTRUE_TRACING_SERVICE_NAME: 'auth', OTEL_SERVICE_NAME: 'edge-auth' }).tracing.serviceName).toBe('edge-auth');
    expect(loadConfig({ ...env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing.protocol).toBe('http/json');
  });

  it.each([
    [{ GOTRUE_METRICS_ENABLED: 'true' }, /GOTRUE_METRICS_EXPORTER: only prometheus is supported here; set GOTRUE_METRICS_EXPORTER=prometheus/],
    [{ GOTRUE_METRICS_ENABLED: 'true', GOTRUE_METRICS_EXPORTER: 'opentelemetry' }, /only prometheus/],
    [{ GOTRUE_METRICS_EXPORTER: 'statsd' }, /GOTRUE_METRICS_EXPORTER/],
    [{ GOTRUE_METRICS_ENABLED: 'maybe' }, /GOTRUE_METRICS_ENABLED: expected a boolean/],
    [{ OTEL_EXPORTER_PROMETHEUS_PORT: 'ninety' }, /OTEL_EXPORTER_PROMETHEUS_PORT: expected a whole number/],
    [{ GOTRUE_TRACING_ENABLED: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported here; use http\/protobuf/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' }, /OTEL_EXPORTER_OTLP_PROTOCOL/],
    [{ GOTRUE_TRACING_EXPORTER: 'jaeger' }, /GOTRUE_TRACING_EXPORTER/],
  ])('refuse %j at startup', (bad, message) => {
    expect(() => loadConfig({ ...env, ...bad })).toThrow(message);
  });
});
