import type { Config } from '../config';
import type { SmsMessage, SmsProvider } from './sms-provider';
import { asRecord, DEFAULT_SMS_TIMEOUT_MS, postForm, sendFailed, vendorText, vendorUrl, type SmsAdapterOptions, type VendorContext } from './vendor-http';

/** MessageBird's SMS REST API (POST /messages, `Authorization: AccessKey …`). */
const PRODUCTION_BASE = 'https://rest.messagebird.com';

/**
 * MessageBird (GOTRUE_SMS_MESSAGEBIRD_ACCESS_KEY, _ORIGINATOR). Sends the rendered text to the phone's E.164
 * digits (MessageBird takes msisdns without '+'); SMS only, as in GoTrue.
 */
export function createMessagebirdProvider(cfg: Config['sms']['messagebird'], opts: SmsAdapterOptions = {}): SmsProvider {
  const ctx: VendorContext = { vendor: 'messagebird', secrets: [cfg.accessKey], timeoutMs: opts.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS };
  const url = vendorUrl(PRODUCTION_BASE, '/messages', opts.baseUrl);
  return {
    name: 'messagebird',
    async send(msg: SmsMessage) {
      if (msg.channel !== 'sms') throw sendFailed(ctx, msg.channel, `channel ${msg.channel} is not supported`);
      const reply = await postForm(
        ctx,
        msg.channel,
        url,
        { originator: cfg.originator, body: msg.body, recipients: msg.to, type: 'sms', datacoding: 'unicode' },
        { Authorization: `AccessKey ${cfg.accessKey}` },
      );
      const body = asRecord(reply.json);
      const errors = Array.isArray(body.errors) ? body.errors.map(asRecord) : [];
      if (errors.length > 0) {
        const first = errors[0]!;
        throw sendFailed(ctx, msg.channel, `HTTP ${reply.status}, error ${vendorText(first.code)}: ${vendorText(first.description)}`);
      }
      if (reply.status < 200 || reply.status >= 300) throw sendFailed(ctx, msg.channel, `HTTP ${reply.status}`);
      const sent = asRecord(body.recipients).totalSentCount;
      if (typeof body.id !== 'string' || sent === 0) {
        throw sendFailed(ctx, msg.channel, `HTTP ${reply.status} without a sent message (totalSentCount ${vendorText(sent)})`);
      }
      return { messageId: body.id };
    },
  };
}
