import type { Config } from '../config';
import { createMessagebirdProvider } from './messagebird';
import type { SmsChannel, SmsProvider } from './sms-provider';
import { createTextlocalProvider } from './textlocal';
import { createTwilioProvider } from './twilio';
import { createTwilioVerifyProvider } from './twilio-verify';
import type { SmsAdapterOptions } from './vendor-http';
import { createVonageProvider } from './vonage';

export { DEFAULT_SMS_TEMPLATE, renderSmsTemplate, type SmsChannel, type SmsMessage, type SmsProvider } from './sms-provider';
export { DEFAULT_SMS_TIMEOUT_MS, type SmsAdapterOptions } from './vendor-http';
export { getTestOtp } from './test-otp';
export { createMessagebirdProvider, createTextlocalProvider, createTwilioProvider, createTwilioVerifyProvider, createVonageProvider };

/**
 * The configured vendor (GOTRUE_SMS_PROVIDER), or undefined when none is set. Credentials were checked by
 * loadConfig, so this does not fail for a valid Config. `opts` points every vendor at a stand-in (tests).
 */
export function createSmsProvider(config: Pick<Config, 'sms'>, opts: SmsAdapterOptions = {}): SmsProvider | undefined {
  const sms = config.sms;
  switch (sms.provider) {
    case 'twilio':
      return createTwilioProvider(sms.twilio, opts);
    case 'twilio_verify':
      return createTwilioVerifyProvider(sms.twilioVerify, opts);
    case 'messagebird':
      return createMessagebirdProvider(sms.messagebird, opts);
    case 'textlocal':
      return createTextlocalProvider(sms.textlocal, opts);
    case 'vonage':
      return createVonageProvider(sms.vonage, opts);
    case '':
      return undefined;
  }
}

/** GoTrue's message when a request asks for a channel the configured vendor cannot use. */
export const INVALID_CHANNEL_MESSAGE =
  "Invalid channel, supported values are 'sms' or 'whatsapp'. 'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider.";

/** Whether `channel` may be requested with this vendor: WhatsApp only through Twilio and Twilio Verify (as GoTrue). */
export function isValidSmsChannel(provider: Config['sms']['provider'], channel: string): channel is SmsChannel {
  if (channel === 'sms') return true;
  return channel === 'whatsapp' && (provider === 'twilio' || provider === 'twilio_verify');
}
