import type { Config } from '../config';
import type { SmsMessage, SmsProvider } from './sms-provider';
import { twilioHandle } from './twilio-client';
import type { SmsAdapterOptions } from './vendor-http';

/**
 * Twilio Verify v2 through the official SDK (GOTRUE_SMS_TWILIO_VERIFY_ACCOUNT_SID, _AUTH_TOKEN,
 * _MESSAGE_SERVICE_SID = the Verify service SID, VA…). Twilio owns the code: `send` starts a verification on the
 * message's channel (sms or whatsapp) and ignores body and otp; `verifyOtp` asks Twilio to check the code.
 */
export function createTwilioVerifyProvider(cfg: Config['sms']['twilioVerify'], opts: SmsAdapterOptions = {}): SmsProvider {
  const twilio = twilioHandle('twilio_verify', cfg.accountSid, cfg.authToken, opts);
  const service = () => twilio.client.verify.v2.services(cfg.messageServiceSid);
  return {
    name: 'twilio_verify',
    async send(msg: SmsMessage) {
      const verification = await twilio.call(msg.channel, () => service().verifications.create({ to: `+${msg.to}`, channel: msg.channel }));
      return { messageId: verification.sid };
    },
    /**
     * True only when Twilio answers `approved`. A wrong code (`pending`), an unknown, expired or used-up
     * verification (404) and too many attempts (429) are false; an outage or refused credentials reject with
     * `sms_send_failed`, so a vendor failure is not mistaken for a wrong code.
     */
    async verifyOtp(to: string, code: string) {
      const check = await twilio.call(
        'verify',
        () => service().verificationChecks.create({ to: `+${to}`, code }),
        (status) => (status === 400 || status === 404 || status === 429 ? null : undefined),
      );
      return check !== null && check.status === 'approved';
    },
  };
}
