import type { Config } from '../config';
import type { SmsMessage, SmsProvider } from './sms-provider';
import { asRecord, DEFAULT_SMS_TIMEOUT_MS, postForm, sendFailed, vendorText, vendorUrl, type SmsAdapterOptions, type VendorContext } from './vendor-http';

/** Textlocal's send API, the host GoTrue uses (api.textlocal.in); the key travels in the form, as documented. */
const PRODUCTION_BASE = 'https://api.textlocal.in';

/**
 * Textlocal (GOTRUE_SMS_TEXTLOCAL_API_KEY, _SENDER). Textlocal answers 200 even on failure; `status` and
 * `errors` in the body decide. SMS only, as in GoTrue.
 */
export function createTextlocalProvider(cfg: Config['sms']['textlocal'], opts: SmsAdapterOptions = {}): SmsProvider {
  const ctx: VendorContext = { vendor: 'textlocal', secrets: [cfg.apiKey], timeoutMs: opts.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS };
  const url = vendorUrl(PRODUCTION_BASE, '/send/', opts.baseUrl);
  return {
    name: 'textlocal',
    async send(msg: SmsMessage) {
      if (msg.channel !== 'sms') throw sendFailed(ctx, msg.channel, `channel ${msg.channel} is not supported`);
      const reply = await postForm(ctx, msg.channel, url, { apikey: cfg.apiKey, sender: cfg.sender, message: msg.body, numbers: msg.to });
      const body = asRecord(reply.json);
      if (body.status !== 'success' || reply.status < 200 || reply.status >= 300) {
        const first = asRecord(Array.isArray(body.errors) ? body.errors[0] : undefined);
        const reason = first.code === undefined ? '' : `, error ${vendorText(first.code)}: ${vendorText(first.message)}`;
        throw sendFailed(ctx, msg.channel, `HTTP ${reply.status}, status ${vendorText(body.status) || 'missing'}${reason}`);
      }
      const first = asRecord(Array.isArray(body.messages) ? body.messages[0] : undefined);
      return { messageId: first.id === undefined ? '' : String(first.id) };
    },
  };
}
