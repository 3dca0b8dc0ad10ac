import { createRequire } from 'node:module';
import type Twilio from 'twilio';
import type { ApiError } from '../errors/api-error';
import type { SmsChannel } from './sms-provider';
import { DEFAULT_SMS_TIMEOUT_MS, sendFailed, transportDetail, vendorText, type SmsAdapterOptions, type VendorContext } from './vendor-http';

/**
 * The SDK is loaded on first use, synchronously: it costs a few hundred ms at start, which a server that sends no
 * SMS through Twilio should not pay.
 */
let sdk: typeof Twilio | undefined;
const loadSdk = (): typeof Twilio => (sdk ??= createRequire(import.meta.url)('twilio') as typeof Twilio);

/**
 * The SDK's own HTTP client with our timeout, optionally sending every request to `baseUrl` instead of the
 * Twilio host the SDK chose (api.twilio.com, verify.twilio.com), path and query kept. The SDK's `edge`/`region`
 * options only rename Twilio hosts, so the `httpClient` option is the SDK's way to reach a stand-in.
 */
function httpClient(baseUrl: string | undefined, timeoutMs: number): Twilio.RequestClient {
  const client = new (loadSdk().RequestClient)({ timeout: timeoutMs, autoRetry: false });
  if (baseUrl === undefined) return client;
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const request = client.request.bind(client);
  client.request = (opts) => {
    const target = new URL(opts.uri);
    return request({ ...opts, uri: `${base.origin}${prefix}${target.pathname}${target.search}` });
  };
  return client;
}

export interface TwilioHandle {
  client: Twilio.Twilio;
  ctx: VendorContext;
  /**
   * Runs one SDK call under a hard deadline, turning every failure into `sms_send_failed`; `onVendorError` may
   * claim a vendor answer first (Verify: a 404 check means "no such code", not an outage).
   */
  call<T>(channel: SmsChannel | 'verify', fn: () => Promise<T>, onVendorError?: (status: number, code: number | undefined) => T | undefined): Promise<T>;
}

/** An SDK client for one account, with GoTrue's 10 s vendor timeout. */
export function twilioHandle(vendor: string, accountSid: string, authToken: string, opts: SmsAdapterOptions): TwilioHandle {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS;
  const ctx: VendorContext = { vendor, secrets: [authToken], timeoutMs };
  const client = loadSdk()(accountSid, authToken, { httpClient: httpClient(opts.baseUrl, timeoutMs), autoRetry: false });
  return {
    client,
    ctx,
    async call(channel, fn, onVendorError) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(sendFailed(ctx, channel, `no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([fn(), deadline]);
      } catch (err) {
        if ((err as ApiError).code === 'sms_send_failed') throw err;
        // RestException / TwilioServiceException: Twilio answered with an error status and its own code.
        const e = err as { status?: unknown; code?: unknown; message?: unknown };
        if (typeof e.status === 'number') {
          const code = typeof e.code === 'number' ? e.code : undefined;
          const claimed = onVendorError?.(e.status, code);
          if (claimed !== undefined) return claimed;
          throw sendFailed(ctx, channel, `HTTP ${e.status}${code ? `, Twilio error ${code}` : ''}: ${vendorText(e.message)}`);
        }
        // Transport errors (axios) carry the request config, Authorization header included: never pass them on.
        throw sendFailed(ctx, channel, transportDetail(err, timeoutMs));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
