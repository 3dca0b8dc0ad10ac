import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { systemClock, systemRandom } from '../../src/crypto/clock';
import type { Db } from '../../src/db/database';
import { createHookRunner } from '../../src/domain/hooks';
import { ApiError } from '../../src/errors/api-error';

const secret = `v1,whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** The one-line problems loadConfig reports for this env. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('GOTRUE_HOOK_<KIND>_* settings', () => {
  it('reads every kind, its transport, its secrets (| separated) and leaves disabled kinds out', () => {
    const config = loadConfig({
      GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_ENABLED: 'true',
      GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: 'pg-functions://postgres/public/custom_access_token_hook',
      GOTRUE_HOOK_SEND_EMAIL_ENABLED: 'true',
      GOTRUE_HOOK_SEND_EMAIL_URI: 'https://hooks.example.com/send-email',
      GOTRUE_HOOK_SEND_EMAIL_SECRETS: `${secret}|${secret.replace('whsec_', 'whsec_A')}`,
      GOTRUE_HOOK_SEND_SMS_ENABLED: 'false',
      GOTRUE_HOOK_SEND_SMS_URI: 'http://localhost:54321/functions/v1/sms',
      GOTRUE_HOOK_MFA_VERIFICATION_ATTEMPT_ENABLED: '1',
      GOTRUE_HOOK_MFA_VERIFICATION_ATTEMPT_URI: 'http://host.docker.internal:8000/mfa',
    });
    expect(config.hooks).toEqual({
      custom_access_token: { transport: 'pg-functions', uri: 'pg-functions://postgres/public/custom_access_token_hook', schema: 'public', name: 'custom_access_token_hook' },
      send_email: { transport: 'http', uri: 'https://hooks.example.com/send-email', secrets: [secret, secret.replace('whsec_', 'whsec_A')] },
      mfa_verification_attempt: { transport: 'http', uri: 'http://host.docker.internal:8000/mfa', secrets: [] },
    });
  });

  it.each([
    [{ GOTRUE_HOOK_SEND_EMAIL_ENABLED: 'true' }, 'GOTRUE_HOOK_SEND_EMAIL_URI: required when GOTRUE_HOOK_SEND_EMAIL_ENABLED is true'],
    [{ GOTRUE_HOOK_SEND_EMAIL_ENABLED: 'yes' }, 'GOTRUE_HOOK_SEND_EMAIL_ENABLED: expected a boolean'],
    [{ GOTRUE_HOOK_SEND_SMS_URI: 'http://hooks.example.com/sms' }, 'GOTRUE_HOOK_SEND_SMS_URI: http:// is allowed only to localhost'],
    [{ GOTRUE_HOOK_SEND_SMS_URI: 'ftp://hooks.example.com/sms' }, 'GOTRUE_HOOK_SEND_SMS_URI: only pg-functions:// and HTTPS hooks are supported'],
    [{ GOTRUE_HOOK_SEND_SMS_URI: 'not a uri' }, 'GOTRUE_HOOK_SEND_SMS_URI: expected an https://'],
    [{ GOTRUE_HOOK_SEND_SMS_URI: 'https://user:pw@hooks.example.com/sms' }, 'GOTRUE_HOOK_SEND_SMS_URI: credentials in the URI are not allowed'],
    [{ GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: 'pg-functions://postgres/public' }, 'GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: expected pg-functions://postgres/<schema>/<function>'],
    [{ GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: 'pg-functions://postgres/public/f;drop table users' }, 'GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: invalid function name'],
    [{ GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: 'pg-functions://postgres/pub"lic/f' }, 'GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: invalid schema name'],
    [{ GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: `pg-functions://postgres/public/${'f'.repeat(64)}` }, 'GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: invalid function name'],
    [{ GOTRUE_HOOK_SEND_EMAIL_URI: 'https://h.example.com', GOTRUE_HOOK_SEND_EMAIL_SECRETS: 'whsec_abc' }, 'GOTRUE_HOOK_SEND_EMAIL_SECRETS: secret 1 is not of the form v1,whsec_<base64>'],
    [{ GOTRUE_HOOK_SEND_EMAIL_URI: 'https://h.example.com', GOTRUE_HOOK_SEND_EMAIL_SECRETS: `${secret}|v1,whsec_short` }, 'GOTRUE_HOOK_SEND_EMAIL_SECRETS: secret 2 is not'],
    [{ GOTRUE_HOOK_SEND_EMAIL_URI: 'https://h.example.com', GOTRUE_HOOK_SEND_EMAIL_SECRETS: `v1a,whpk_${'a'.repeat(44)}:whsk_${'b'.repeat(44)}` }, 'GOTRUE_HOOK_SEND_EMAIL_SECRETS: secret 1 is not'],
  ])('refuses %j with one line', (env: Record<string, string>, problem) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
    expect(problems[0]).not.toContain('\n');
    // A secret never appears in the message.
    for (const part of (Object.entries(env).find(([k]) => k.endsWith('_SECRETS'))?.[1] ?? '').split('|').filter(Boolean)) expect(problems[0]).not.toContain(part);
  });
});

describe('the hook runner', () => {
  it('answers 422 hook_timeout_after_retry when the endpoint cannot be reached, after its attempts', async () => {
    // A port nothing listens on: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    let attempts = 0;
    const runner = createHookRunner({
      hooks: { send_sms: { transport: 'http', uri: `http://127.0.0.1:${port}/sms`, secrets: [secret] } },
      db: undefined as unknown as Db,
      fetch: (input, init) => {
        attempts++;
        return globalThis.fetch(input, init);
      },
      clock: systemClock,
      random: systemRandom,
      logger: pino({ level: 'silent' }),
      options: { httpBackoffMs: 10 },
    });
    const err = await runner.run('send_sms', { sms: { otp: '123456' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: 'hook_timeout_after_retry', message: 'Failed to reach hook after maximum retries' });
    expect(attempts).toBe(3);
  });
});
