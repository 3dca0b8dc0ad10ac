import type { Config } from '../config/config';

/**
 * GoTrue's session policies (GOTRUE_SESSIONS_*), as pure rules over a session row: the refresh grant, the sessions
 * API and the housekeeping loop all judge a session with these, so "ended" means one thing everywhere.
 */

export type SessionVerdict = 'valid' | 'past_not_after' | 'past_timebox' | 'timed_out';

export interface PolicySession {
  created_at: Date | null;
  refreshed_at: Date | null;
  not_after: Date | null;
}

/**
 * When the session was last active: its refreshed_at, else the presented refresh token's time when that is later
 * than the session's start (GoTrue's LastRefreshedAt), else its start.
 */
export function lastRefreshedAt(s: PolicySession, tokenTime?: Date | null): Date {
  if (s.refreshed_at) return s.refreshed_at;
  const created = s.created_at ?? new Date(0);
  if (tokenTime && tokenTime > created) return tokenTime;
  return created;
}

/** GoTrue's CheckValidity: not_after first, then the timebox, then inactivity. */
export function sessionVerdict(policy: Config['sessions'], s: PolicySession, now: Date, tokenTime?: Date | null): SessionVerdict {
  if (s.not_after && now > s.not_after) return 'past_not_after';
  const created = s.created_at ?? new Date(0);
  if (policy.timeboxMs > 0 && now.getTime() > created.getTime() + policy.timeboxMs) return 'past_timebox';
  if (policy.inactivityTimeoutMs > 0 && now.getTime() > lastRefreshedAt(s, tokenTime).getTime() + policy.inactivityTimeoutMs) return 'timed_out';
  return 'valid';
}

/** GoTrue's refresh-grant messages for a session that may no longer refresh (error code session_expired). */
export function sessionExpiredMessage(verdict: Exclude<SessionVerdict, 'valid'>, policy: Config['sessions']): string {
  if (verdict === 'timed_out') return 'Invalid Refresh Token: Session Expired (Inactivity)';
  // Only a single-per-user sign-in sets not_after (domain/sessions issue), so with that policy on it names the cause.
  if (verdict === 'past_not_after' && policy.singlePerUser) return 'Invalid Refresh Token: Session Expired (Revoked by Newer Login)';
  return 'Invalid Refresh Token: Session Expired';
}

/** GoTrue's DetermineTag: a session's tag when GOTRUE_SESSIONS_TAGS lists it, else the first listed tag ('' when none). */
export function effectiveTag(tag: string | null, tags: readonly string[]): string {
  if (tags.length === 0) return '';
  if (tag && tags.includes(tag)) return tag;
  return tags[0]!;
}
