import { hs256Signer } from '../helpers/tokens';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/cli/embedded';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION } from '../helpers/test-server';

const server = useTestApp({ mail: true });
const { db } = server;

const post = (path: string, body?: object, headers: Record<string, string> = {}) => {
  const r = request(server.app).post(path).set(API_VERSION).set(headers);
  return body === undefined ? r : r.send(body);
};
const service = { Authorization: `Bearer ${(await apiKeys(hs256Signer())).serviceRole}` };
const challenge = { code_challenge: 'c'.repeat(43) };

describe(`invalid input to the email and phone endpoints (${dbKind})`, () => {
  it.each([
    ['/otp', undefined, 400, 'bad_json'],
    ['/otp', {}, 400, 'validation_failed'],
    ['/otp', { email: 'a@example.com', phone: '15551234567' }, 400, 'validation_failed'],
    ['/otp', { email: 'not-an-email' }, 400, 'email_address_invalid'],
    ['/otp', { email: 'a@example.com', create_user: 'yes' }, 400, 'validation_failed'],
    ['/otp', { email: 'a@example.com', ...challenge, code_challenge_method: 'md5' }, 400, 'validation_failed'],
    ['/otp', { email: 'a@example.com', ...challenge }, 400, 'validation_failed'],
    ['/otp', { email: 'a@example.com', code_challenge: 'short', code_challenge_method: 's256' }, 400, 'validation_failed'],
    ['/otp', { phone: '15551234567' }, 400, 'phone_provider_disabled'],
    ['/magiclink', {}, 400, 'validation_failed'],
    ['/magiclink', { email: 'a@@example.com' }, 400, 'email_address_invalid'],
    ['/recover', undefined, 400, 'bad_json'],
    ['/recover', {}, 400, 'validation_failed'],
    ['/recover', { email: 'nope' }, 400, 'email_address_invalid'],
    ['/recover', { email: 'a@example.com', ...challenge, code_challenge_method: 'S512' }, 400, 'validation_failed'],
    ['/signup', { email: 'a@example.com', password: 'pass-word-1', ...challenge, code_challenge_method: 'S512' }, 400, 'validation_failed'],
    ['/signup', { phone: '15551234567', password: 'pass-word-1', channel: 'pigeon' }, 400, 'phone_provider_disabled'],
    ['/invite', {}, 400, 'validation_failed', service],
    ['/invite', { email: 'nope' }, 400, 'email_address_invalid', service],
  ])('POST %s %j → %i %s', async (path, body, status, code, headers?: Record<string, string>) => {
    const res = await post(path, body, headers);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  it('POST /otp on an unconfigured instance with email logins off is 422 email_provider_disabled', async () => {
    const { startTestServer } = await import('../helpers/test-server');
    const off = await startTestServer(db, { GOTRUE_EXTERNAL_EMAIL_ENABLED: 'false' });
    try {
      const res = await request(off.app).post('/otp').set(API_VERSION).send({ email: 'a@example.com' });
      expect([res.status, res.body.code]).toEqual([422, 'email_provider_disabled']);
    } finally {
      await off.close();
    }
  });
});
