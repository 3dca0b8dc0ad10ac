import { parseGoDuration } from '../../config/parsers';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';

/** Go's time.Duration is int64 nanoseconds: about 292 years either way. */
const MAX_GO_DURATION_MS = 9_223_372_036_854.775;

/**
 * `ban_duration` as GoTrue reads it: "none" lifts a ban (0), anything else is a Go duration ("24h", "1h30m",
 * "300ms"; a bare number only when it is 0). Returns milliseconds; throws 400 validation_failed otherwise.
 */
export function parseBanDuration(text: string): number {
  const s = text.trim();
  if (s === 'none') return 0;
  const invalid = (why: string) => badRequest(ErrorCodes.validationFailed, `invalid format for ban duration: time: ${why} "${s}"`);
  // parseGoDuration reads a bare number as seconds (as some settings allow); Go's ParseDuration does not.
  if (/^[+-]?\d*\.?\d*$/.test(s) && Number(s) !== 0) throw invalid('missing unit in duration');
  const ms = parseGoDuration(s);
  if (ms === undefined || Number.isNaN(ms)) throw invalid('invalid duration');
  if (Math.abs(ms) > MAX_GO_DURATION_MS) throw invalid('invalid duration');
  return ms;
}

/** GoTrue's User.Ban: a zero duration clears banned_until; any other sets it that far from now (a negative one lies in the past). */
export const bannedUntil = (now: Date, ms: number): Date | null => (ms === 0 ? null : new Date(now.getTime() + ms));
