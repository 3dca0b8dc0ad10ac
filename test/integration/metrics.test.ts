import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusMetrics, startMetricsServer, type PrometheusMetrics } from '../../src/observability/prometheus';
import { recordingSms, uniquePhone, type RecordingSms } from '../helpers/sms-recorder';
import { sampleValue } from '../helpers/prometheus-text';
import { onPostgres } from '../helpers/test-db';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';

let metrics: PrometheusMetrics;
let scrapeServer: Server;
let sms: RecordingSms;

// The fixture's database is opened in its own beforeAll; the metrics read its pool at scrape time.
const t = useTestApp({
  mail: true,
  env: {
    GOTRUE_MAILER_AUTOCONFIRM: 'true',
    GOTRUE_EXTERNAL_PHONE_ENABLED: 'true',
    GOTRUE_SMS_MAX_FREQUENCY: '0s',
    GOTRUE_SMTP_MAX_FREQUENCY: '0s',
    GOTRUE_RATE_LIMIT_VERIFY: '2',
  },
  overrides: () => {
    sms = recordingSms();
    metrics = createPrometheusMetrics(() => t.db.poolStats?.());
    return { metrics, sms };
  },
});

beforeAll(async () => {
  scrapeServer = await startMetricsServer('127.0.0.1', 0, metrics.registry);
});
afterAll(async () => {
  await new Promise<void>((resolve) => scrapeServer.close(() => resolve()));
});

/** GET /metrics on the listener, as Prometheus would. */
async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${(scrapeServer.address() as AddressInfo).port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('Prometheus metrics (GOTRUE_METRICS_ENABLED)', () => {
  it('counts and times requests by route pattern and status, the same at / and /auth/v1, never by raw URL', async () => {
    await request(t.app).get('/health').expect(200);
    await request(t.app).get('/auth/v1/health').expect(200);
    await request(t.app).get('/no-such-path-7f3a9').expect(404);
    await request(t.app).get('/admin/users/00000000-0000-0000-0000-000000000000').expect(401);
    const text = await scrape();
    const health = { method: 'GET', route: '/health', status: '200' };
    expect(sampleValue(text, 'gotrue_http_requests_total', health)).toBe(2);
    expect(sampleValue(text, 'gotrue_http_request_duration_seconds_count', health)).toBe(2);
    expect(sampleValue(text, 'gotrue_http_request_duration_seconds_bucket', { ...health, le: '+Inf' })).toBe(2);
    expect(sampleValue(text, 'gotrue_http_request_duration_seconds_sum', health)).toBeGreaterThan(0);
    expect(sampleValue(text, 'gotrue_http_requests_total', { route: 'noroute', status: '404' })).toBe(1);
    expect(text).not.toContain('no-such-path-7f3a9');
    expect(text).not.toContain('00000000-0000-0000-0000-000000000000');
    expect(sampleValue(text, 'gotrue_running')).toBe(1);
    expect(sampleValue(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('labels a parameterised route by its pattern', async () => {
    await request(t.app).delete('/factors/not-a-factor').expect(401);
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_http_requests_total', { method: 'DELETE', route: '/factors/:factor_id', status: '401' })).toBe(1);
  });

  it('counts grants by type and outcome and times password hashing', async () => {
    const email = uniqueEmail('metrics');
    await request(t.app).post('/signup').send({ email, password: 'pass-word-1' }).expect(200);
    await request(t.app).post('/token?grant_type=password').send({ email, password: 'pass-word-1' }).expect(200);
    await request(t.app).post('/token?grant_type=password').send({ email, password: 'wrong-word-1' }).expect(400);
    await request(t.app).post('/token?grant_type=refresh_token').send({ refresh_token: 'nope' }).expect(400);
    await request(t.app).post('/token?grant_type=made_up_grant').send({}).expect(400);
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_token_grants_total', { grant_type: 'password', outcome: 'success' })).toBe(1);
    expect(sampleValue(text, 'gotrue_token_grants_total', { grant_type: 'password', outcome: 'failure' })).toBe(1);
    expect(sampleValue(text, 'gotrue_token_grants_total', { grant_type: 'refresh_token', outcome: 'failure' })).toBe(1);
    expect(sampleValue(text, 'gotrue_token_grants_total', { grant_type: 'unsupported', outcome: 'failure' })).toBe(1);
    expect(text).not.toContain('made_up_grant');
    expect(sampleValue(text, 'gotrue_password_hash_duration_seconds_count', { operation: 'hash' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'gotrue_password_hash_duration_seconds_count', { operation: 'verify' })).toBe(2);
  });

  it('counts rate-limit refusals by bucket', async () => {
    for (let i = 0; i < 2; i++) await request(t.app).get('/verify?type=signup&token=x').expect((r) => expect(r.status).not.toBe(429));
    await request(t.app).get('/verify?type=signup&token=x').expect(429);
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_rate_limit_refusals_total', { bucket: 'verify' })).toBe(1);
    expect(sampleValue(text, 'gotrue_http_requests_total', { route: '/verify', status: '429' })).toBe(1);
  });

  it('counts mail and SMS sends and failures', async () => {
    const email = uniqueEmail('mail');
    await request(t.app).post('/signup').send({ email, password: 'pass-word-1' }).expect(200);
    await request(t.app).post('/recover').send({ email }).expect(200);
    await t.mail.next(email); // sent in the background: wait for it before the SMTP listener starts refusing
    t.mail.fail = 'rcpt';
    try {
      await request(t.app).post('/magiclink').send({ email });
    } finally {
      t.mail.fail = 'none';
    }
    await request(t.app).post('/otp').send({ phone: uniquePhone() }).expect(200);
    sms.fail = true;
    try {
      await request(t.app).post('/otp').send({ phone: uniquePhone() });
    } finally {
      sms.fail = false;
    }
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_mail_sends_total', { kind: 'recovery', outcome: 'success' })).toBe(1);
    expect(sampleValue(text, 'gotrue_mail_sends_total', { kind: 'magic_link', outcome: 'failure' })).toBe(1);
    expect(sampleValue(text, 'gotrue_sms_sends_total', { provider: 'recording', outcome: 'success' })).toBe(1);
    expect(sampleValue(text, 'gotrue_sms_sends_total', { provider: 'recording', outcome: 'failure' })).toBe(1);
  });

  it('offers hook calls to the hook runner: a counter by hook and outcome and a duration histogram', async () => {
    t.deps.metrics.hook('custom_access_token', 'success', 0.012);
    t.deps.metrics.hook('send_email', 'failure', 0.2);
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_hook_calls_total', { hook: 'custom_access_token', outcome: 'success' })).toBe(1);
    expect(sampleValue(text, 'gotrue_hook_calls_total', { hook: 'send_email', outcome: 'failure' })).toBe(1);
    expect(sampleValue(text, 'gotrue_hook_duration_seconds_count', { hook: 'send_email' })).toBe(1);
  });

  it.runIf(onPostgres)('reports the pg pool: its size limit and the connections open, idle and in use', async () => {
    const text = await scrape();
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'max' })).toBe(20);
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'waiting' })).toBe(0);
    const total = sampleValue(text, 'gotrue_db_pool_connections', { state: 'total' })!;
    expect(sampleValue(text, 'gotrue_db_pool_connections', { state: 'idle' })! + sampleValue(text, 'gotrue_db_pool_connections', { state: 'in_use' })!).toBe(total);
  });

  it.runIf(!onPostgres)('has no pool gauge on the embedded database, which has no pool', async () => {
    expect(sampleValue(await scrape(), 'gotrue_db_pool_connections')).toBeUndefined();
  });

  it('answers only GET /metrics on its listener', async () => {
    const base = `http://127.0.0.1:${(scrapeServer.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
