import type { Config } from '../config';
import type { SmsMessage, SmsProvider } from './sms-provider';
import { asRecord, DEFAULT_SMS_TIMEOUT_MS, postForm, sendFailed, vendorText, vendorUrl, type SmsAdapterOptions, type VendorContext } from './vendor-http';

/** Vonage (Nexmo) SMS API: POST /sms/json with api_key and api_secret in the form. */
const PRODUCTION_BASE = 'https://rest.nexmo.com';

/**
 * Vonage (GOTRUE_SMS_VONAGE_API_KEY, _API_SECRET, _FROM). Vonage answers 200 with a per-message `status`;
 * "0" is success. Non-ASCII text goes as `type=unicode`, as GoTrue sends it. SMS only.
 */
export function createVonageProvider(cfg: Config['sms']['vonage'], opts: SmsAdapterOptions = {}): SmsProvider {
  const ctx: VendorContext = { vendor: 'vonage', secrets: [cfg.apiKey, cfg.apiSecret], timeoutMs: opts.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS };
  const url = vendorUrl(PRODUCTION_BASE, '/sms/json', opts.baseUrl);
  return {
    name: 'vonage',
    async send(msg: SmsMessage) {
      if (msg.channel !== 'sms') throw sendFailed(ctx, msg.channel, `channel ${msg.channel} is not supported`);
      const form: Record<string, string> = { from: cfg.from, to: msg.to, text: msg.body, api_key: cfg.apiKey, api_secret: cfg.apiSecret };
      // eslint-disable-next-line no-control-regex
      if (/[^\x00-\x7f]/.test(msg.body)) form.type = 'unicode';
      const reply = await postForm(ctx, msg.channel, url, form);
      const first = asRecord(Array.isArray(asRecord(reply.json).messages) ? (asRecord(reply.json).messages as unknown[])[0] : undefined);
      if (reply.status < 200 || reply.status >= 300 || first.status !== '0') {
        const reason = first.status === undefined ? '' : `, status ${vendorText(first.status)}: ${vendorText(first['error-text'])}`;
        throw sendFailed(ctx, msg.channel, `HTTP ${reply.status}${reason}`);
      }
      return { messageId: vendorText(first['message-id']) };
    },
  };
}
