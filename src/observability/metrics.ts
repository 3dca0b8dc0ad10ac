/** How a counted operation ended. */
export type Outcome = 'success' | 'failure';

/**
 * What the server counts, as calls rather than metric objects: features call these and never see prom-client.
 * With GOTRUE_METRICS_ENABLED off every call is an empty function (noMetrics), so counting costs nothing.
 * Labels are bounded sets chosen by the server (route patterns, grant and hook names), never raw client input.
 */
export interface Metrics {
  readonly enabled: boolean;
  /** One finished HTTP request: its route pattern ('/factors/:factor_id/verify', or 'noroute'), never the raw URL. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** One POST /token grant; `type` is a known grant_type or 'unsupported'. */
  grant(type: string, outcome: Outcome): void;
  /** One password hash, verify or decoy verify (burn), and how long it took. */
  passwordHash(operation: 'hash' | 'verify' | 'burn', seconds: number): void;
  /** A request refused by a per-client rate-limit bucket (429 over_request_rate_limit). */
  rateLimited(bucket: string): void;
  /** One account mail handed to the transport (confirmation, recovery, …). */
  mail(kind: string, outcome: Outcome): void;
  /** One SMS handed to the vendor. */
  sms(provider: string, outcome: Outcome): void;
  /** One auth hook call (custom_access_token, send_email, …): its outcome and duration. */
  hook(name: string, outcome: Outcome, seconds: number): void;
}

const nothing = () => {};

/** Metrics off: every call does nothing. */
export const noMetrics: Metrics = {
  enabled: false,
  request: nothing,
  grant: nothing,
  passwordHash: nothing,
  rateLimited: nothing,
  mail: nothing,
  sms: nothing,
  hook: nothing,
};

/** Seconds since `start` (a process.hrtime.bigint() reading). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Times an async call and reports its outcome; the call's result or error passes through untouched. */
export async function timed<T>(call: () => Promise<T>, report: (outcome: Outcome, seconds: number) => void): Promise<T> {
  const start = process.hrtime.bigint();
  try {
    const out = await call();
    report('success', secondsSince(start));
    return out;
  } catch (err) {
    report('failure', secondsSince(start));
    throw err;
  }
}
