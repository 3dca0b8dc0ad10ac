import { parseGoDuration } from './parsers';

/** A count per window: `events` in every `windowMs` (GOTRUE_RATE_LIMIT_EMAIL_SENT, GOTRUE_RATE_LIMIT_SMS_SENT). */
export interface Rate {
  /** Whole events allowed per window; 0 allows none. */
  events: number;
  windowMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * GoTrue's rate syntax (conf.Rate): a number is events per hour ("30", "2.5" counts as 2); `N/duration` is
 * GoTrue's burst form, N at once and then one per duration, which a fixed window reproduces in burst and in
 * long-run rate as N per N × duration ("10/1m" → 10 per 10 minutes). A duration of 0 means an hour, as in GoTrue.
 */
export function parseRate(text: string): Rate | { problem: string } {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return { events: Math.floor(Number(s)), windowMs: HOUR_MS };
  const m = /^(\d+)\/(.+)$/.exec(s);
  const perMs = m ? parseGoDuration(m[2]!) : undefined;
  if (!m || perMs === undefined || perMs < 0 || /^[\d.]+$/.test(m[2]!)) {
    return { problem: `expected a number of events per hour (30) or events/duration (10/1m), got "${text}"` };
  }
  const events = Number(m[1]);
  return { events, windowMs: events * (perMs === 0 ? HOUR_MS : perMs) };
}
