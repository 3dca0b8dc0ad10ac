import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { ApiError } from '../../src/errors/api-error';
import { createSmsProvider, type SmsAdapterOptions, type SmsMessage, type SmsProvider } from '../../src/sms';
import { useTestApp } from '../helpers/test-app';
import { testDeps } from '../helpers/test-server';
import { refusingUrl, startVendorStandIn, type VendorStandIn } from '../helpers/vendor-stand-in';

/** The timeout the "vendor hangs" tests set; the other tests keep the production 10 s, so a slow machine passes. */
const TIMEOUT_MS = 400;

const ACCOUNT_SID = 'AC' + '1'.repeat(32);
const VERIFY_ACCOUNT_SID = 'AC' + '2'.repeat(32);
const MESSAGING_SERVICE_SID = 'MG' + '3'.repeat(32);
const VERIFY_SERVICE_SID = 'VA' + '4'.repeat(32);
const CONTENT_SID = 'HX' + '5'.repeat(32);

const env = {
  twilio: {
    GOTRUE_SMS_PROVIDER: 'twilio',
    GOTRUE_SMS_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    GOTRUE_SMS_TWILIO_AUTH_TOKEN: 'twilio-auth-token-s3cret',
    GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: MESSAGING_SERVICE_SID,
  },
  twilio_verify: {
    GOTRUE_SMS_PROVIDER: 'twilio_verify',
    GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID: VERIFY_ACCOUNT_SID,
    GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN: 'verify-auth-token-s3cret',
    GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID: VERIFY_SERVICE_SID,
  },
  messagebird: { GOTRUE_SMS_PROVIDER: 'messagebird', GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY: 'messagebird-key-s3cret', GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR: 'Acme' },
  textlocal: { GOTRUE_SMS_PROVIDER: 'textlocal', GOTRUE_SMS_TEXTLOCAL_API_KEY: 'textlocal-key-s3cret', GOTRUE_SMS_TEXTLOCAL_SENDER: 'ACMEIN' },
  vonage: {
    GOTRUE_SMS_PROVIDER: 'vonage',
    GOTRUE_SMS_VONAGE_API_KEY: 'vonage-key-s3cret',
    GOTRUE_SMS_VONAGE_API_SECRET: 'vonage-secret-s3cret',
    GOTRUE_SMS_VONAGE_FROM: 'Acme',
  },
} satisfies Record<string, Record<string, string>>;

const secretsOf = (vars: Record<string, string>) => Object.entries(vars).filter(([k]) => /TOKEN|KEY|SECRET/.test(k)).map(([, v]) => v);

/** The provider the server would build from this env, pointed at a stand-in. */
const provider = (vars: Record<string, string>, opts: SmsAdapterOptions): SmsProvider => {
  const p = createSmsProvider(loadConfig(vars), opts);
  if (!p) throw new Error('expected a provider');
  return p;
};

const message = (over: Partial<SmsMessage> = {}): SmsMessage => ({
  to: '15550100123',
  body: 'Your code is 123456',
  otp: '123456',
  channel: 'sms',
  ...over,
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/**
 * The one failure contract: 422 sms_send_failed with a fixed message that carries neither a credential nor the
 * vendor's reply; the logged cause names the reason and carries no credential either.
 */
async function expectSendFailed(p: Promise<unknown>, secrets: string[], vendorWords: string[] = []): Promise<ApiError> {
  const err = await p.then(
    () => expect.fail('expected the send to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  const apiError = err as ApiError;
  expect(apiError.status).toBe(422);
  expect(apiError.code).toBe('sms_send_failed');
  expect(apiError.message).toMatch(/^Error (sending (sms|whatsapp)|verifying) OTP (to|with) provider$/);
  const cause = String(apiError.cause);
  for (const s of secrets) {
    expect(apiError.message).not.toContain(s);
    expect(cause).not.toContain(s);
    expect(JSON.stringify(apiError)).not.toContain(s);
  }
  for (const w of vendorWords) expect(apiError.message).not.toContain(w);
  return apiError;
}

/** Failures every vendor must map: HTTP 5xx, a hanging vendor (timeout) and a refused connection. */
function transportFailures(vars: Record<string, string>, send: (p: SmsProvider) => Promise<unknown>) {
  const secrets = secretsOf(vars);

  it('maps a 5xx answer to sms_send_failed', async () => {
    const vendor = await startVendorStandIn({ status: 503, json: { message: 'upstream sad' } });
    try {
      await expectSendFailed(send(provider(vars, { baseUrl: vendor.url })), secrets, ['upstream sad']);
      expect(vendor.requests).toHaveLength(1);
    } finally {
      await vendor.close();
    }
  });

  it('gives up on a vendor that does not answer, after the timeout', async () => {
    const vendor = await startVendorStandIn('hang');
    try {
      const started = Date.now();
      const err = await expectSendFailed(send(provider(vars, { baseUrl: vendor.url, timeoutMs: TIMEOUT_MS })), secrets);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
      expect(String(err.cause)).toMatch(/no answer within 400 ms/);
    } finally {
      await vendor.close();
    }
  });

  it('maps a refused connection to sms_send_failed', async () => {
    const err = await expectSendFailed(send(provider(vars, { baseUrl: await refusingUrl() })), secrets);
    expect(String(err.cause)).toMatch(/ECONNREFUSED/);
  });
}

describe('Twilio (official SDK)', () => {
  let vendor: VendorStandIn;
  const vars = env.twilio;
  const accepted = { status: 201, json: { sid: 'SM' + 'a'.repeat(32), status: 'queued', account_sid: ACCOUNT_SID } };
  beforeAll(async () => {
    vendor = await startVendorStandIn(accepted);
  });
  afterAll(() => vendor.close());

  it('posts the message to the account’s Messages resource with Basic auth and a + number', async () => {
    vendor.reply(accepted);
    const sent = await provider(vars, { baseUrl: vendor.url }).send(message());
    expect(sent).toEqual({ messageId: 'SM' + 'a'.repeat(32) });
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(req.headers.authorization).toBe(basic(ACCOUNT_SID, vars.GOTRUE_SMS_TWILIO_AUTH_TOKEN));
    expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.form).toEqual({ To: '+15550100123', MessagingServiceSid: MESSAGING_SERVICE_SID, Body: 'Your code is 123456' });
  });

  it('sends from a phone number or sender id when the sender is not a Messaging Service SID', async () => {
    vendor.reply(accepted);
    await provider({ ...vars, GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: '+15005550006' }, { baseUrl: vendor.url }).send(message());
    expect(vendor.requests.at(-1)!.form).toEqual({ To: '+15550100123', From: '+15005550006', Body: 'Your code is 123456' });
  });

  it('sends WhatsApp to whatsapp:+number, from a whatsapp: sender', async () => {
    vendor.reply(accepted);
    await provider({ ...vars, GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID: '15005550006' }, { baseUrl: vendor.url }).send(message({ channel: 'whatsapp' }));
    expect(vendor.requests.at(-1)!.form).toEqual({ To: 'whatsapp:+15550100123', From: 'whatsapp:+15005550006', Body: 'Your code is 123456' });
  });

  it('sends WhatsApp through the content template with the OTP as variable 1 when a content SID is set', async () => {
    vendor.reply(accepted);
    const p = provider({ ...vars, GOTRUE_SMS_TWILIO_CONTENT_SID: CONTENT_SID }, { baseUrl: vendor.url });
    await p.send(message({ channel: 'whatsapp', otp: '987654' }));
    expect(vendor.requests.at(-1)!.form).toEqual({
      To: 'whatsapp:+15550100123',
      MessagingServiceSid: MESSAGING_SERVICE_SID,
      ContentSid: CONTENT_SID,
      ContentVariables: '{"1":"987654"}',
    });
    await p.send(message({ channel: 'sms' }));
    expect(vendor.requests.at(-1)!.form).toEqual({ To: '+15550100123', MessagingServiceSid: MESSAGING_SERVICE_SID, Body: 'Your code is 123456' });
  });

  it('maps a 4xx Twilio error to sms_send_failed, keeping Twilio’s reason for the log only', async () => {
    const twilioSays = `The 'To' number +15550100123 is not a valid phone number. (token ${vars.GOTRUE_SMS_TWILIO_AUTH_TOKEN})`;
    vendor.reply({ status: 400, json: { code: 21211, message: twilioSays, more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['not a valid phone number']);
    expect(String(err.cause)).toMatch(/twilio: HTTP 400, Twilio error 21211: The 'To' number .* \(token \[redacted\]\)/);
  });

  it('maps refused credentials (401) to sms_send_failed', async () => {
    vendor.reply({ status: 401, json: { code: 20003, message: 'Authenticate', status: 401 } });
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars));
  });

  it('treats a message Twilio already marked failed as a failed send', async () => {
    vendor.reply({ status: 201, json: { sid: 'SM' + 'b'.repeat(32), status: 'failed', error_code: 30008, error_message: 'Unknown error' } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars));
    expect(String(err.cause)).toMatch(/message failed, error 30008/);
  });

  transportFailures(vars, (p) => p.send(message()));
});

describe('Twilio Verify (official SDK)', () => {
  let vendor: VendorStandIn;
  const vars = env.twilio_verify;
  const base = `/v2/Services/${VERIFY_SERVICE_SID}`;
  beforeAll(async () => {
    vendor = await startVendorStandIn({ status: 201, json: { sid: 'VE' + 'a'.repeat(32), status: 'pending' } });
  });
  afterAll(() => vendor.close());

  it('starts a verification on the sms channel and ignores our text and code', async () => {
    vendor.reply({ status: 201, json: { sid: 'VE' + 'a'.repeat(32), status: 'pending', channel: 'sms' } });
    const sent = await provider(vars, { baseUrl: vendor.url }).send(message());
    expect(sent).toEqual({ messageId: 'VE' + 'a'.repeat(32) });
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${base}/Verifications`);
    expect(req.headers.authorization).toBe(basic(VERIFY_ACCOUNT_SID, vars.GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN));
    expect(req.form).toEqual({ To: '+15550100123', Channel: 'sms' });
  });

  it('starts a verification on the whatsapp channel', async () => {
    vendor.reply({ status: 201, json: { sid: 'VE' + 'b'.repeat(32), status: 'pending', channel: 'whatsapp' } });
    await provider(vars, { baseUrl: vendor.url }).send(message({ channel: 'whatsapp' }));
    expect(vendor.requests.at(-1)!.form).toEqual({ To: '+15550100123', Channel: 'whatsapp' });
  });

  it('checks a code: approved is true, pending (wrong code) is false', async () => {
    const p = provider(vars, { baseUrl: vendor.url });
    expect(p.verifyOtp).toBeTypeOf('function');
    vendor.reply((req) => ({ status: 200, json: { sid: 'VE' + 'c'.repeat(32), status: req.form.Code === '424242' ? 'approved' : 'pending', valid: req.form.Code === '424242' } }));
    await expect(p.verifyOtp!('15550100123', '424242')).resolves.toBe(true);
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`${base}/VerificationCheck`);
    expect(req.headers.authorization).toBe(basic(VERIFY_ACCOUNT_SID, vars.GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN));
    expect(req.form).toEqual({ To: '+15550100123', Code: '424242' });
    await expect(p.verifyOtp!('15550100123', '000000')).resolves.toBe(false);
  });

  it.each([
    [404, 20404, 'The requested resource was not found'],
    [429, 60202, 'Max check attempts reached'],
  ])('answers false when Twilio says %i (no such verification / too many attempts)', async (status, code, text) => {
    vendor.reply({ status, json: { code, message: text, status } });
    await expect(provider(vars, { baseUrl: vendor.url }).verifyOtp!('15550100123', '424242')).resolves.toBe(false);
  });

  it('rejects a check with sms_send_failed when Twilio fails, so an outage is not a wrong code', async () => {
    vendor.reply({ status: 500, json: { code: 20500, message: 'Internal Server Error', status: 500 } });
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).verifyOtp!('15550100123', '424242'), secretsOf(vars));
    await expectSendFailed(provider(vars, { baseUrl: await refusingUrl() }).verifyOtp!('15550100123', '424242'), secretsOf(vars));
  });

  it('maps a 4xx Verify error on send to sms_send_failed', async () => {
    vendor.reply({ status: 400, json: { code: 60200, message: 'Invalid parameter `To`', status: 400 } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['Invalid parameter']);
    expect(String(err.cause)).toMatch(/Twilio error 60200/);
  });

  transportFailures(vars, (p) => p.send(message()));
});

describe('MessageBird', () => {
  let vendor: VendorStandIn;
  const vars = env.messagebird;
  const accepted = { status: 201, json: { id: 'mb-message-1', recipients: { totalCount: 1, totalSentCount: 1 } } };
  beforeAll(async () => {
    vendor = await startVendorStandIn(accepted);
  });
  afterAll(() => vendor.close());

  it('posts the message to /messages with the AccessKey header', async () => {
    vendor.reply(accepted);
    const sent = await provider(vars, { baseUrl: vendor.url }).send(message({ body: 'Código: 123456' }));
    expect(sent).toEqual({ messageId: 'mb-message-1' });
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/messages');
    expect(req.headers.authorization).toBe(`AccessKey ${vars.GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY}`);
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.form).toEqual({ originator: 'Acme', body: 'Código: 123456', recipients: '15550100123', type: 'sms', datacoding: 'unicode' });
  });

  it('maps a MessageBird error body to sms_send_failed', async () => {
    vendor.reply({ status: 401, json: { errors: [{ code: 2, description: 'Request not allowed (incorrect access_key)', parameter: 'access_key' }] } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['incorrect access_key']);
    expect(String(err.cause)).toMatch(/messagebird: HTTP 401, error 2: Request not allowed/);
  });

  it('treats an accepted request that sent nothing as a failure', async () => {
    vendor.reply({ status: 201, json: { id: 'mb-message-2', recipients: { totalCount: 1, totalSentCount: 0 } } });
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars));
  });

  it('refuses WhatsApp without calling the vendor', async () => {
    const before = vendor.requests.length;
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message({ channel: 'whatsapp' })), secretsOf(vars));
    expect(vendor.requests).toHaveLength(before);
  });

  transportFailures(vars, (p) => p.send(message()));
});

describe('Textlocal', () => {
  let vendor: VendorStandIn;
  const vars = env.textlocal;
  const accepted = { status: 200, json: { status: 'success', balance: 1162, messages: [{ id: 1151346216, recipient: 15550100123 }] } };
  beforeAll(async () => {
    vendor = await startVendorStandIn(accepted);
  });
  afterAll(() => vendor.close());

  it('posts the message to /send/ with the API key in the form', async () => {
    vendor.reply(accepted);
    const sent = await provider(vars, { baseUrl: vendor.url }).send(message());
    expect(sent).toEqual({ messageId: '1151346216' });
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/send/');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.form).toEqual({ apikey: vars.GOTRUE_SMS_TEXTLOCAL_API_KEY, sender: 'ACMEIN', message: 'Your code is 123456', numbers: '15550100123' });
  });

  it('maps a failure status in a 200 answer to sms_send_failed', async () => {
    vendor.reply({ status: 200, json: { status: 'failure', errors: [{ code: 3, message: `Invalid login details for ${vars.GOTRUE_SMS_TEXTLOCAL_API_KEY}` }] } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['Invalid login']);
    expect(String(err.cause)).toMatch(/textlocal: HTTP 200, status failure, error 3: Invalid login details for \[redacted\]/);
  });

  it('maps a 4xx answer to sms_send_failed', async () => {
    vendor.reply({ status: 400, json: { status: 'failure', errors: [{ code: 204, message: 'Invalid message content' }] } });
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['Invalid message content']);
  });

  it('refuses WhatsApp without calling the vendor', async () => {
    const before = vendor.requests.length;
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message({ channel: 'whatsapp' })), secretsOf(vars));
    expect(vendor.requests).toHaveLength(before);
  });

  transportFailures(vars, (p) => p.send(message()));
});

describe('Vonage', () => {
  let vendor: VendorStandIn;
  const vars = env.vonage;
  const accepted = { status: 200, json: { 'message-count': '1', messages: [{ to: '15550100123', 'message-id': '0A0000000123ABCD1', status: '0' }] } };
  beforeAll(async () => {
    vendor = await startVendorStandIn(accepted);
  });
  afterAll(() => vendor.close());

  it('posts the message to /sms/json with key and secret in the form', async () => {
    vendor.reply(accepted);
    const sent = await provider(vars, { baseUrl: vendor.url }).send(message());
    expect(sent).toEqual({ messageId: '0A0000000123ABCD1' });
    const req = vendor.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/sms/json');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.form).toEqual({
      from: 'Acme',
      to: '15550100123',
      text: 'Your code is 123456',
      api_key: vars.GOTRUE_SMS_VONAGE_API_KEY,
      api_secret: vars.GOTRUE_SMS_VONAGE_API_SECRET,
    });
  });

  it('marks non-ASCII text as unicode', async () => {
    vendor.reply(accepted);
    await provider(vars, { baseUrl: vendor.url }).send(message({ body: 'Ваш код 123456' }));
    expect(vendor.requests.at(-1)!.form).toMatchObject({ text: 'Ваш код 123456', type: 'unicode' });
  });

  it('maps a non-zero message status to sms_send_failed', async () => {
    vendor.reply({ status: 200, json: { 'message-count': '1', messages: [{ status: '4', 'error-text': `Bad Credentials ${vars.GOTRUE_SMS_VONAGE_API_SECRET}` }] } });
    const err = await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['Bad Credentials']);
    expect(String(err.cause)).toMatch(/vonage: HTTP 200, status 4: Bad Credentials \[redacted\]/);
  });

  it('maps a 4xx answer to sms_send_failed', async () => {
    vendor.reply({ status: 401, json: { type: 'https://developer.nexmo.com/api-errors#unauthorized', title: 'Invalid credentials supplied' } });
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message()), secretsOf(vars), ['Invalid credentials']);
  });

  it('refuses WhatsApp without calling the vendor', async () => {
    const before = vendor.requests.length;
    await expectSendFailed(provider(vars, { baseUrl: vendor.url }).send(message({ channel: 'whatsapp' })), secretsOf(vars));
    expect(vendor.requests).toHaveLength(before);
  });

  transportFailures(vars, (p) => p.send(message()));
});

describe('Deps', () => {
  const { db } = useTestApp();

  it('carry no SMS provider unless one is configured', () => {
    expect(testDeps(db).sms).toBeUndefined();
  });

  it('carry the configured provider, built from the environment', () => {
    expect(testDeps(db, env.vonage).sms?.name).toBe('vonage');
  });

  it('take a replacement provider from tests, pointed at a stand-in', async () => {
    const vendor = await startVendorStandIn({ status: 201, json: { id: 'mb-deps', recipients: { totalSentCount: 1 } } });
    try {
      const config = loadConfig(env.messagebird);
      const deps = testDeps(db, env.vonage, { sms: createSmsProvider(config, { baseUrl: vendor.url }) });
      await expect(deps.sms!.send(message())).resolves.toEqual({ messageId: 'mb-deps' });
      expect(vendor.requests.at(-1)!.path).toBe('/messages');
      expect(testDeps(db, env.vonage, { sms: undefined }).sms).toBeUndefined();
    } finally {
      await vendor.close();
    }
  });
});
