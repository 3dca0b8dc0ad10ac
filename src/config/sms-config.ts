import type { Config } from './config';
import type { RawEnv } from './schema';

/** The credentials each vendor cannot send without, by their GoTrue names (GoTrue's provider Validate()). */
const REQUIRED: Record<string, string[]> = {
  twilio: ['GOTRUE_SMS_TWILIO_ACCOUNT_SID', 'GOTRUE_SMS_TWILIO_AUTH_TOKEN', 'GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID'],
  twilio_verify: [
    'GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID',
    'GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN',
    'GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID',
  ],
  messagebird: ['GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY', 'GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR'],
  textlocal: ['GOTRUE_SMS_TEXTLOCAL_API_KEY', 'GOTRUE_SMS_TEXTLOCAL_SENDER'],
  vonage: ['GOTRUE_SMS_VONAGE_API_KEY', 'GOTRUE_SMS_VONAGE_API_SECRET', 'GOTRUE_SMS_VONAGE_FROM'],
};

/** Variables holding a Twilio account SID: the SDK refuses one that does not start with AC. */
const ACCOUNT_SIDS: Record<string, string> = {
  twilio: 'GOTRUE_SMS_TWILIO_ACCOUNT_SID',
  twilio_verify: 'GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID',
};

/**
 * Problems with the chosen SMS vendor's credentials, read from the raw (alias-resolved) environment so they are
 * reported with every other problem even when another variable fails to parse. GoTrue finds a missing credential
 * only at the first send; here the server refuses to start instead.
 */
export function smsCredentialProblems(env: Record<string, string | undefined>): string[] {
  const value = (k: string) => env[k]?.trim() ?? '';
  const provider = value('GOTRUE_SMS_PROVIDER');
  const required = Object.hasOwn(REQUIRED, provider) ? REQUIRED[provider]! : [];
  const problems = required
    .filter((k) => value(k) === '')
    .map((k) => `${k}: required when GOTRUE_SMS_PROVIDER=${provider}`);
  const sidKey = Object.hasOwn(ACCOUNT_SIDS, provider) ? ACCOUNT_SIDS[provider] : undefined;
  if (sidKey && value(sidKey) !== '' && !value(sidKey).startsWith('AC')) {
    problems.push(`${sidKey}: expected a Twilio account SID (it starts with AC)`);
  }
  return problems;
}

/** The `sms` part of Config. Out-of-range values fall back to GoTrue's defaults, as GoTrue does. */
export function buildSmsConfig(e: RawEnv): Config['sms'] {
  return {
    autoconfirm: e.GOTRUE_SMS_AUTOCONFIRM,
    provider: (e.GOTRUE_SMS_PROVIDER ?? '') as Config['sms']['provider'],
    // GoTrue: a zero frequency or expiry means the default; a length outside 6–10 means 6.
    maxFrequencyMs: e.GOTRUE_SMS_MAX_FREQUENCY === 0 ? 60_000 : e.GOTRUE_SMS_MAX_FREQUENCY,
    otpExp: e.GOTRUE_SMS_OTP_EXP === 0 ? 60 : e.GOTRUE_SMS_OTP_EXP,
    otpLength: e.GOTRUE_SMS_OTP_LENGTH >= 6 && e.GOTRUE_SMS_OTP_LENGTH <= 10 ? e.GOTRUE_SMS_OTP_LENGTH : 6,
    template: e.GOTRUE_SMS_TEMPLATE ?? 'Your code is {{ .Code }}',
    testOtp: e.GOTRUE_SMS_TEST_OTP,
    testOtpValidUntil: e.GOTRUE_SMS_TEST_OTP_VALID_UNTIL,
    twilio: {
      accountSid: e.GOTRUE_SMS_TWILIO_ACCOUNT_SID ?? '',
      authToken: e.GOTRUE_SMS_TWILIO_AUTH_TOKEN ?? '',
      messageServiceSid: e.GOTRUE_SMS_TWILIO_MESSAGE_SERVICE_SID ?? '',
      contentSid: e.GOTRUE_SMS_TWILIO_CONTENT_SID ?? '',
    },
    twilioVerify: {
      accountSid: e.GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID ?? '',
      authToken: e.GOTRUE_SMS_TWILIO_VERIFY_AUTH_TOKEN ?? '',
      messageServiceSid: e.GOTRUE_SMS_TWILIO_VERIFY_MESSAGE_SERVICE_SID ?? '',
    },
    messagebird: { accessKey: e.GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY ?? '', originator: e.GOTRUE_SMS_MESSAGEBIRD_ORIGINATOR ?? '' },
    textlocal: { apiKey: e.GOTRUE_SMS_TEXTLOCAL_API_KEY ?? '', sender: e.GOTRUE_SMS_TEXTLOCAL_SENDER ?? '' },
    vonage: {
      apiKey: e.GOTRUE_SMS_VONAGE_API_KEY ?? '',
      apiSecret: e.GOTRUE_SMS_VONAGE_API_SECRET ?? '',
      from: e.GOTRUE_SMS_VONAGE_FROM ?? '',
    },
  };
}
