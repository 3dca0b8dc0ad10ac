import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createSmsProvider, DEFAULT_SMS_TEMPLATE, DEFAULT_SMS_TIMEOUT_MS, getTestOtp, isValidSmsChannel, renderSmsTemplate } from '../../src/sms';
import { vendorUrl } from '../../src/sms/vendor-http';

describe('renderSmsTemplate', () => {
  it('fills the code into GoTrue’s default template', () => {
    expect(DEFAULT_SMS_TEMPLATE).toBe('Your code is {{ .Code }}');
    expect(renderSmsTemplate(DEFAULT_SMS_TEMPLATE, '123456')).toBe('Your code is 123456');
  });

  it.each([
    ['{{.Code}} is your code', '042042 is your code'],
    ['Code: {{   .Code   }}.', 'Code: 042042.'],
    ['{{ .Code }} / {{ .Code }}', '042042 / 042042'],
    ['Code:   {{- .Code }} !', 'Code:042042 !'],
    ['Code: {{ .Code -}}   !', 'Code: 042042!'],
    ['Code:\n{{- .Code -}}\n!', 'Code:042042!'],
    ['No placeholder here', 'No placeholder here'],
    ['{{ .Codes }} and {{ .Token }} stay as written', '{{ .Codes }} and {{ .Token }} stay as written'],
  ])('renders %j', (template, out) => expect(renderSmsTemplate(template, '042042')).toBe(out));

  it('does not escape the text (an SMS is plain text)', () => {
    expect(renderSmsTemplate('<b>{{ .Code }}</b> & more', '1')).toBe('<b>1</b> & more');
  });

  it('takes the code literally, $ patterns included', () => {
    expect(renderSmsTemplate('{{ .Code }}', '$&$1')).toBe('$&$1');
  });
});

describe('getTestOtp', () => {
  const sms = { testOtp: { '15550100': '123456' }, testOtpValidUntil: Date.UTC(2030, 0, 1) };

  it('gives the fixed code of a test phone and nothing for other phones', () => {
    expect(getTestOtp(sms, '15550100', new Date(Date.UTC(2029, 11, 31)))).toBe('123456');
    expect(getTestOtp(sms, '15550101', new Date(Date.UTC(2029, 11, 31)))).toBeUndefined();
  });

  it('stops applying once GOTRUE_SMS_TEST_OTP_VALID_UNTIL has passed', () => {
    expect(getTestOtp(sms, '15550100', new Date(Date.UTC(2030, 0, 1)))).toBeUndefined();
  });

  it('applies forever without an end time, and ignores inherited keys', () => {
    const forever = { testOtp: { '15550100': '123456' }, testOtpValidUntil: undefined };
    expect(getTestOtp(forever, '15550100', new Date(Date.UTC(2999, 0, 1)))).toBe('123456');
    expect(getTestOtp(forever, 'constructor', new Date())).toBeUndefined();
  });

  it('reads the codes loadConfig parsed', () => {
    const { sms: loaded } = loadConfig({ GOTRUE_SMS_TEST_OTP: '+1 555 0100:999999' });
    expect(getTestOtp(loaded, '15550100', new Date())).toBe('999999');
  });
});

describe('createSmsProvider', () => {
  it('builds nothing without a provider', () => {
    expect(createSmsProvider(loadConfig({}))).toBeUndefined();
  });

  it.each([
    ['twilio', { GOTRUE_SMS_TWILIO_ACCOUNT_SID: 'AC1', GOTRUE_SMS_TWILIO_AUTH_TOKEN: 't', GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: 'MG1' }],
    ['twilio_verify', { GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID: 'AC1', GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN: 't', GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID: 'VA1' }],
    ['messagebird', { GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY: 'k', GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR: 'o' }],
    ['textlocal', { GOTRUE_SMS_TEXTLOCAL_API_KEY: 'k', GOTRUE_SMS_TEXTLOCAL_SENDER: 's' }],
    ['vonage', { GOTRUE_SMS_VONAGE_API_KEY: 'k', GOTRUE_SMS_VONAGE_API_SECRET: 's', GOTRUE_SMS_VONAGE_FROM: 'f' }],
  ])('builds the %s adapter by name; only Twilio Verify checks codes itself', (name, vars) => {
    const p = createSmsProvider(loadConfig({ GOTRUE_SMS_PROVIDER: name, ...vars }));
    expect(p?.name).toBe(name);
    expect(typeof p?.verifyOtp).toBe(name === 'twilio_verify' ? 'function' : 'undefined');
  });

  it('waits 10 seconds for a vendor by default, as GoTrue does', () => expect(DEFAULT_SMS_TIMEOUT_MS).toBe(10_000));
});

describe('vendor URLs', () => {
  it('use the vendor’s production API unless a base URL is given', () => {
    expect(vendorUrl('https://rest.nexmo.com', '/sms/json', undefined)).toBe('https://rest.nexmo.com/sms/json');
    expect(vendorUrl('https://rest.nexmo.com', '/sms/json', 'http://127.0.0.1:4000/vonage/')).toBe('http://127.0.0.1:4000/vonage/sms/json');
  });
});

describe('isValidSmsChannel', () => {
  it('allows WhatsApp only through Twilio and Twilio Verify, as GoTrue does', () => {
    expect(isValidSmsChannel('twilio', 'whatsapp')).toBe(true);
    expect(isValidSmsChannel('twilio_verify', 'whatsapp')).toBe(true);
    for (const p of ['messagebird', 'textlocal', 'vonage', ''] as const) {
      expect(isValidSmsChannel(p, 'sms')).toBe(true);
      expect(isValidSmsChannel(p, 'whatsapp')).toBe(false);
    }
    expect(isValidSmsChannel('twilio', 'voice')).toBe(false);
  });
});
