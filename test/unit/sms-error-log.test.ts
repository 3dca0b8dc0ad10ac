import type { Request, Response } from 'express';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sendError } from '../../src/http/error-handler';
import { sendFailed } from '../../src/sms/vendor-http';

describe('an sms_send_failed error', () => {
  it('answers 422 with the fixed message and logs the vendor’s reason at warn, without the credential', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const err = sendFailed({ vendor: 'vonage', secrets: ['vn-secret'], timeoutMs: 10_000 }, 'sms', 'HTTP 200, status 4: Bad Credentials vn-secret');
    const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
    const res = {
      setHeader: (k: string, v: string) => (sent.headers[k.toLowerCase()] = v),
      status(code: number) {
        sent.status = code;
        return this;
      },
      json: (body: unknown) => (sent.body = body),
    } as unknown as Response;
    const req = { id: 'req-1', header: (name: string) => (name === 'x-supabase-api-version' ? '2024-01-01' : undefined) } as unknown as Request;

    sendError(req, res, err, 'error-id', logger);

    expect(sent.status).toBe(422);
    expect(sent.headers['x-sb-error-code']).toBe('sms_send_failed');
    expect(sent.body).toEqual({ code: 'sms_send_failed', message: 'Error sending sms OTP to provider' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'Error sending sms OTP to provider', request_id: 'req-1' });
    const logged = JSON.stringify(lines[0]);
    expect(logged).toContain('vonage: HTTP 200, status 4: Bad Credentials [redacted]');
    expect(logged).not.toContain('vn-secret');
  });
});
