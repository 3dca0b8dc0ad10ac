import { ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import type { SmsChannel } from './sms-provider';

/** GoTrue's SMS vendor timeout. */
export const DEFAULT_SMS_TIMEOUT_MS = 10_000;

/** Options every adapter takes: where the vendor is (tests point it at a stand-in) and how long to wait. */
export interface SmsAdapterOptions {
  /** Replaces the vendor's scheme, host and port (and prefixes its path); unset = the vendor's production API. */
  baseUrl?: string;
  /** Longest a vendor call may take, in ms (default 10 s). */
  timeoutMs?: number;
}

/** What an adapter knows about itself when it reports a failure. */
export interface VendorContext {
  vendor: string;
  /** Values that must never appear in an error, not even in the logged cause. */
  secrets: string[];
  timeoutMs: number;
}

const redact = (text: string, secrets: string[]) =>
  secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join('[redacted]'), text);

/**
 * The one failure every adapter reports: 422 `sms_send_failed` with a fixed message. The vendor's reason goes in
 * `cause` (logged, never sent), with the adapter's secrets removed and its length bounded.
 */
export function sendFailed(ctx: VendorContext, channel: SmsChannel | 'verify', detail: string): ApiError {
  const reason = redact(`${ctx.vendor}: ${detail}`, ctx.secrets).slice(0, 500);
  const message = channel === 'verify' ? 'Error verifying OTP with provider' : `Error sending ${channel} OTP to provider`;
  return new ApiError(422, ErrorCodes.smsSendFailed, message, { cause: new Error(reason) });
}

/** A vendor-provided text (error description), cut short and kept to one line for the log. */
export const vendorText = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v).replace(/\s+/g, ' ').slice(0, 200) : '');

/** Describes a transport failure (timeout, refused connection) without echoing request options. */
export function transportDetail(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  if (e?.name === 'TimeoutError' || e?.code === 'ECONNABORTED' || e?.code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.code === 'string' ? e.code : 'network error';
  return `request failed (${code})`;
}

/** The vendor URL for `path`: the production base, or the test base with the same path under it. */
export function vendorUrl(productionBase: string, path: string, baseUrl: string | undefined): string {
  const base = (baseUrl ?? productionBase).replace(/\/+$/, '');
  return `${base}${path}`;
}

export interface VendorReply {
  status: number;
  /** The parsed JSON body; undefined when the body is not JSON. */
  json: unknown;
}

/**
 * POSTs a form to a vendor with a hard deadline covering the whole exchange (headers and body). Transport failures
 * reject with `sms_send_failed`; any HTTP status resolves, for the adapter to judge with the vendor's own rules.
 */
export async function postForm(
  ctx: VendorContext,
  channel: SmsChannel,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<VendorReply> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(ctx.timeoutMs),
      redirect: 'error',
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  } catch (err) {
    throw sendFailed(ctx, channel, transportDetail(err, ctx.timeoutMs));
  }
}

/** A plain JSON object, or an empty one: vendor replies are read defensively. */
export const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
