import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { parseRfc3339, parseTestOtp } from '../../src/config/parsers';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

const credentials: Record<string, Record<string, string>> = {
  twilio: {
    GOTRUE_SMS_TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32),
    GOTRUE_SMS_TWILIO_AUTH_TOKEN: 'tw-token',
    GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: 'MG' + 'b'.repeat(32),
  },
  twilio_verify: {
    GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID: 'AC' + 'c'.repeat(32),
    GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN: 'tv-token',
    GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID: 'VA' + 'd'.repeat(32),
  },
  messagebird: { GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY: 'mb-key', GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR: 'Acme' },
  textlocal: { GOTRUE_SMS_TEXTLOCAL_API_KEY: 'tl-key', GOTRUE_SMS_TEXTLOCAL_SENDER: 'ACME' },
  vonage: { GOTRUE_SMS_VONAGE_API_KEY: 'vn-key', GOTRUE_SMS_VONAGE_API_SECRET: 'vn-secret', GOTRUE_SMS_VONAGE_FROM: 'Acme' },
};

describe('SMS configuration', () => {
  it('applies GoTrue defaults', () => {
    const { sms } = loadConfig({});
    expect(sms).toMatchObject({
      autoconfirm: false,
      provider: '',
      maxFrequencyMs: 60_000,
      otpExp: 60,
      otpLength: 6,
      template: 'Your code is {{ .Code }}',
      testOtp: {},
      testOtpValidUntil: undefined,
    });
  });

  it.each(Object.keys(credentials))('loads %s with its credentials', (provider) => {
    const c = loadConfig({ GOTRUE_SMS_PROVIDER: provider, ...credentials[provider] });
    expect(c.sms.provider).toBe(provider);
  });

  it.each(Object.entries(credentials))('reports every missing %s credential at once, naming the variable', (provider, vars) => {
    const problems = problemsOf({ GOTRUE_SMS_PROVIDER: provider });
    expect(problems).toEqual(Object.keys(vars).map((k) => `${k}: required when GOTRUE_SMS_PROVIDER=${provider}`));
    for (const key of Object.keys(vars)) {
      const partial = { GOTRUE_SMS_PROVIDER: provider, ...vars, [key]: ' ' };
      expect(problemsOf(partial)).toEqual([`${key}: required when GOTRUE_SMS_PROVIDER=${provider}`]);
    }
  });

  it('reports SMS problems together with unrelated ones', () => {
    const problems = problemsOf({ GOTRUE_SMS_PROVIDER: 'vonage', GOTRUE_JWT_EXP: 'soon' });
    expect(problems.some((p) => p.startsWith('GOTRUE_JWT_EXP'))).toBe(true);
    expect(problems.filter((p) => p.startsWith('GOTRUE_SMS_VONAGE_'))).toHaveLength(3);
  });

  it('refuses an unknown provider and a Twilio account SID that is not one', () => {
    expect(problemsOf({ GOTRUE_SMS_PROVIDER: 'carrier-pigeon' })).toEqual([
      'GOTRUE_SMS_PROVIDER: expected one of twilio, twilio_verify, messagebird, textlocal, vonage',
    ]);
    expect(problemsOf({ GOTRUE_SMS_PROVIDER: 'twilio', ...credentials.twilio, GOTRUE_SMS_TWILIO_ACCOUNT_SID: 'SK123' })).toEqual([
      'GOTRUE_SMS_TWILIO_ACCOUNT_SID: expected a Twilio account SID (it starts with AC)',
    ]);
  });

  it('does not require credentials of vendors that are not chosen', () => {
    expect(() => loadConfig({ GOTRUE_SMS_PROVIDER: 'textlocal', ...credentials.textlocal })).not.toThrow();
  });

  it('keeps credentials out of problem lines', () => {
    const problems = problemsOf({ GOTRUE_SMS_PROVIDER: 'vonage', GOTRUE_SMS_VONAGE_API_SECRET: 'vn-secret' }).join('\n');
    expect(problems).not.toContain('vn-secret');
  });

  it('reads the SMS settings', () => {
    const c = loadConfig({
      GOTRUE_SMS_MAX_FREQUENCY: '2m',
      GOTRUE_SMS_OTP_EXP: '300',
      GOTRUE_SMS_OTP_LENGTH: '8',
      GOTRUE_SMS_TEMPLATE: 'Code: {{.Code}}',
      GOTRUE_SMS_TEST_OTP: '15550100:123456, +44 7700-900123=654321',
      GOTRUE_SMS_TEST_OTP_VALID_UNTIL: '2030-01-02T03:04:05Z',
      GOTRUE_SMS_AUTOCONFIRM: 'true',
    });
    expect(c.sms).toMatchObject({
      autoconfirm: true,
      maxFrequencyMs: 120_000,
      otpExp: 300,
      otpLength: 8,
      template: 'Code: {{.Code}}',
      testOtp: { '15550100': '123456', '447700900123': '654321' },
      testOtpValidUntil: Date.UTC(2030, 0, 2, 3, 4, 5),
    });
    expect(Object.isFrozen(c.sms.testOtp)).toBe(true);
  });

  it('falls back to GoTrue defaults for zero and out-of-range values, as GoTrue does', () => {
    const lengths = ['5', '11', '0'].map((v) => loadConfig({ GOTRUE_SMS_OTP_LENGTH: v }).sms.otpLength);
    expect(lengths).toEqual([6, 6, 6]);
    expect(loadConfig({ GOTRUE_SMS_OTP_LENGTH: '10' }).sms.otpLength).toBe(10);
    expect(loadConfig({ GOTRUE_SMS_OTP_EXP: '0', GOTRUE_SMS_MAX_FREQUENCY: '0s' }).sms).toMatchObject({ otpExp: 60, maxFrequencyMs: 60_000 });
  });

  it('reports malformed SMS settings', () => {
    const problems = problemsOf({
      GOTRUE_SMS_TEST_OTP: '15550100',
      GOTRUE_SMS_TEST_OTP_VALID_UNTIL: 'tomorrow',
      GOTRUE_SMS_MAX_FREQUENCY: 'often',
      GOTRUE_SMS_OTP_EXP: '-1',
    }).join('\n');
    for (const key of ['GOTRUE_SMS_TEST_OTP:', 'GOTRUE_SMS_TEST_OTP_VALID_UNTIL:', 'GOTRUE_SMS_MAX_FREQUENCY:', 'GOTRUE_SMS_OTP_EXP:']) {
      expect(problems).toContain(key);
    }
  });
});

describe('GOTRUE_SMS_TEST_OTP parsing', () => {
  it('reads phone:code and phone=code pairs, normalising phones to E.164 digits', () => {
    expect(parseTestOtp('15550100:123456,+15550101=000111, (44) 20-7946-0000 : 42')).toEqual({
      otps: { '15550100': '123456', '15550101': '000111', '442079460000': '42' },
    });
  });

  it('lets a later pair for the same phone win', () => {
    expect(parseTestOtp('15550100:1,15550100:2')).toEqual({ otps: { '15550100': '2' } });
  });

  it.each(['15550100', '15550100:', ':123456', 'abc:123456', '0123:111', '1'.repeat(16) + ':1'])('refuses %j', (text) => {
    expect(parseTestOtp(text)).toHaveProperty('problem');
  });

  it('reads an empty list as no test phones', () => expect(parseTestOtp(' , ')).toEqual({ otps: {} }));
});

describe('RFC 3339 times', () => {
  it.each([
    ['2030-01-02T03:04:05Z', Date.UTC(2030, 0, 2, 3, 4, 5)],
    ['2030-01-02T03:04:05.250Z', Date.UTC(2030, 0, 2, 3, 4, 5, 250)],
    ['2030-01-02T05:04:05+02:00', Date.UTC(2030, 0, 2, 3, 4, 5)],
  ])('reads %s', (text, ms) => expect(parseRfc3339(text)).toBe(ms));

  it.each(['2030-01-02', '2030-01-02 03:04:05Z', 'tomorrow', '2030-13-02T03:04:05Z'])('refuses %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});
