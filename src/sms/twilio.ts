import type { Config } from '../config';
import type { SmsMessage, SmsProvider } from './sms-provider';
import { twilioHandle } from './twilio-client';
import { sendFailed, vendorText, type SmsAdapterOptions } from './vendor-http';

type CreateOptions = Parameters<ReturnType<typeof twilioHandle>['client']['messages']['create']>[0];

const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

/**
 * Twilio Programmable Messaging through the official SDK (GOTRUE_SMS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN,
 * _MESSAGE_SERVICE_SID, _CONTENT_SID). The sender variable holds a Messaging Service SID (MG…) or a sender
 * (phone number, alphanumeric id), as GoTrue accepts either. WhatsApp goes to `whatsapp:+<phone>`; with a content
 * SID it sends that WhatsApp template with the OTP as variable 1, else the rendered text.
 */
export function createTwilioProvider(cfg: Config['sms']['twilio'], opts: SmsAdapterOptions = {}): SmsProvider {
  const twilio = twilioHandle('twilio', cfg.accountSid, cfg.authToken, opts);
  return {
    name: 'twilio',
    async send(msg: SmsMessage) {
      const whatsapp = msg.channel === 'whatsapp';
      const to = whatsapp ? `whatsapp:+${msg.to}` : `+${msg.to}`;
      const params: CreateOptions = { to };
      if (MESSAGING_SERVICE_SID.test(cfg.messageServiceSid)) params.messagingServiceSid = cfg.messageServiceSid;
      else params.from = whatsapp ? whatsappSender(cfg.messageServiceSid) : cfg.messageServiceSid;
      if (whatsapp && cfg.contentSid) {
        params.contentSid = cfg.contentSid;
        params.contentVariables = JSON.stringify({ 1: msg.otp });
      } else {
        params.body = msg.body;
      }
      const message = await twilio.call(msg.channel, () => twilio.client.messages.create(params));
      // GoTrue treats a message Twilio accepted but already marked failed as a failed send.
      if (message.status === 'failed' || message.status === 'undelivered') {
        throw sendFailed(twilio.ctx, msg.channel, `message ${message.status}, error ${vendorText(message.errorCode)}: ${vendorText(message.errorMessage)}`);
      }
      return { messageId: message.sid };
    },
  };
}

/** A phone-number sender becomes `whatsapp:+<digits>`; other senders are passed as configured. */
function whatsappSender(sender: string): string {
  if (sender.startsWith('whatsapp:')) return sender;
  const digits = sender.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  return /^[1-9]\d{1,14}$/.test(digits) ? `whatsapp:+${digits}` : sender;
}
