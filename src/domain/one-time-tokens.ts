import { getTestOtp } from '../sms';
import { generateOtp, otpTokenHash, tokensEqual, withFlowPrefix, withoutFlowPrefix, PKCE_PREFIX } from '../crypto/otp';
import type { Executor } from '../db/database';
import {
  consumeOneTimeToken,
  deleteOneTimeTokenIfUnchanged,
  deleteOneTimeTokens,
  findOneTimeToken,
  findTokensByHash,
  findTokensForIdentifier,
  recordFailedAttempts,
  restoreOneTimeToken,
  upsertOneTimeToken,
  type TokenWithUser,
} from '../db/repositories/one-time-tokens';
import { clearTokenColumns, tokenColumnsOf, writeTokenColumn } from '../db/repositories/users';
import type { OneTimeTokenRow, OneTimeTokenType, UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { tooManyRequests } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/**
 * One-time tokens (contract §6.1). A token lives twice, as GoTrue keeps it: in its users column (with the *_sent_at
 * that dates it) and in one_time_tokens (where lookups go). This module is the only writer of either place, and
 * every function here changes both together. Only the hash is stored: hex SHA-224 of the address and the OTP,
 * `pkce_`-prefixed for PKCE email flows.
 */

/** Wrong guesses a typed code survives: the 5th wrong guess invalidates it (README, "One-time codes"). */
export const MAX_WRONG_GUESSES = 5;

export type Channel = 'email' | 'sms';
/** Email tokens relate to an address; SMS tokens to phone digits. */
export const channelOf = (relatesTo: string): Channel => (relatesTo.includes('@') ? 'email' : 'sms');

/** The fixed code of a GOTRUE_SMS_TEST_OTP phone while those are valid; undefined for any other phone. */
export function testOtpFor(deps: Pick<Deps, 'config' | 'clock'>, phone: string): string | undefined {
  return getTestOtp(deps.config.sms, phone, deps.clock.now());
}

/** A fresh code for this channel: GOTRUE_MAILER_OTP_LENGTH / GOTRUE_SMS_OTP_LENGTH digits, or a phone's test code. */
export function newOtp(deps: Pick<Deps, 'config' | 'clock' | 'random'>, relatesTo: string): string {
  if (channelOf(relatesTo) === 'sms') return testOtpFor(deps, relatesTo) ?? generateOtp(deps.random, deps.config.sms.otpLength);
  return generateOtp(deps.random, deps.config.mailer.otpLength);
}

export interface IssueTokenInput {
  /**
   * The user's row as the caller's transaction locked it (lockUser) or created it: the token is issued under that
   * lock, and its previous value and sent_at are read from this row (no second lock, no second read).
   */
  user: UserRow;
  type: OneTimeTokenType;
  /** Lower-cased email or phone digits: what the hash covers and the token relates to. */
  relatesTo: string;
  otp: string;
  pkce: boolean;
  /** Refuse (429) when the last token of this kind went out less than SMTP/SMS_MAX_FREQUENCY ago. */
  throttle: boolean;
}

export interface IssuedToken {
  type: OneTimeTokenType;
  userId: string;
  otp: string;
  /** The stored value (maybe `pkce_`-prefixed); the mail's link carries it. */
  tokenHash: string;
  /** What the token replaced, so a failed send can put it back. */
  previous: { token: string | null; sentAt: Date | null; row: OneTimeTokenRow | undefined };
}

/** GoTrue's per-user resend throttle message. */
export function throttled(channel: Channel, waitMs: number) {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const code = channel === 'email' ? ErrorCodes.overEmailSendRateLimit : ErrorCodes.overSmsSendRateLimit;
  return tooManyRequests(code, `For security purposes, you can only request this after ${seconds} seconds.`);
}

/**
 * Issues a token inside the caller's transaction, under the user's row lock the caller holds (so two concurrent
 * requests cannot both pass the throttle): writes the users column and its sent_at, and the one_time_tokens row.
 */
export async function issueToken(trx: Executor, deps: Pick<Deps, 'config' | 'clock' | 'random'>, input: IssueTokenInput): Promise<IssuedToken> {
  const { user } = input;
  const now = deps.clock.now();
  const previous = tokenColumnsOf(user, input.type);
  const channel = channelOf(input.relatesTo);
  if (input.throttle && previous.sentAt) {
    const every = channel === 'email' ? deps.config.smtp.maxFrequencyMs : deps.config.sms.maxFrequencyMs;
    const wait = previous.sentAt.getTime() + every - now.getTime();
    if (wait > 0) throw throttled(channel, wait);
  }
  const tokenHash = withFlowPrefix(otpTokenHash(input.relatesTo, input.otp), input.pkce);
  const previousRow = await findOneTimeToken(trx, user.id, input.type);
  await writeTokenColumn(trx, user.id, input.type, { token: tokenHash, sentAt: now });
  await upsertOneTimeToken(trx, { id: deps.random.uuid(), userId: user.id, tokenType: input.type, tokenHash, relatesTo: input.relatesTo, now });
  return { type: input.type, userId: user.id, otp: input.otp, tokenHash, previous: { ...previous, row: previousRow } };
}

/**
 * Undoes issueToken after its message could not be sent: the previous token and sent_at come back, so the user can
 * simply ask again (no throttle) and nothing undelivered stays valid. A token replaced or revoked meanwhile is left
 * alone, in both places.
 */
export async function revertIssuedToken(ex: Executor, issued: IssuedToken): Promise<void> {
  const { token, sentAt, row } = issued.previous;
  const stillIssued = await writeTokenColumn(ex, issued.userId, issued.type, { token, sentAt }, issued.tokenHash);
  if (!stillIssued) return;
  await deleteOneTimeTokenIfUnchanged(ex, issued.userId, issued.type, issued.tokenHash);
  if (row) await restoreOneTimeToken(ex, row);
}

/** Drops the user's tokens of these types, from both places (a pending change they belonged to was replaced). */
export async function revokeTokens(ex: Executor, userId: string, types: OneTimeTokenType[]): Promise<void> {
  await deleteOneTimeTokens(ex, userId, types);
  await clearTokenColumns(ex, userId, types);
}

/**
 * Drops every token of the user, from both places: after a successful verification (contract §6.1), and when an
 * admin changes the password or deletes the account, so an old link cannot act on it.
 */
export async function revokeAllTokens(ex: Executor, userId: string): Promise<void> {
  await deleteOneTimeTokens(ex, userId);
  await clearTokenColumns(ex, userId);
}

/** Deletes this exact token from both places (a newer token of its type is left alone). */
async function dropToken(ex: Executor, row: Pick<OneTimeTokenRow, 'user_id' | 'token_type' | 'token_hash'>): Promise<void> {
  await deleteOneTimeTokenIfUnchanged(ex, row.user_id, row.token_type, row.token_hash);
  await writeTokenColumn(ex, row.user_id, row.token_type, { token: '' }, row.token_hash);
}

/** A token that answered a verification, with its user. */
export type MatchedToken = TokenWithUser;

/** A link's token or a token_hash: compared directly, `pkce_` prefix tolerated either way. */
export async function findTokenByHash(ex: Executor, hash: string, types: OneTimeTokenType[]): Promise<MatchedToken | undefined> {
  const bare = withoutFlowPrefix(hash);
  const found = await findTokensByHash(ex, [bare, PKCE_PREFIX + bare], types);
  return found.find((m) => tokensEqual(withoutFlowPrefix(m.token.token_hash), bare));
}

/**
 * A typed code for an address or phone: recomputes the hash and compares it, in constant time, with each token
 * sent there. A miss counts a wrong guess against every candidate (in its own statement, so the count survives
 * the failed request); a token reaching MAX_WRONG_GUESSES is deleted. Vendors that own the code (Twilio Verify)
 * check it themselves.
 */
export async function findTokenByOtp(
  deps: Pick<Deps, 'db' | 'sms' | 'config' | 'clock'>,
  aud: string,
  relatesTo: string,
  otp: string,
  types: OneTimeTokenType[],
): Promise<MatchedToken | undefined> {
  const candidates = await findTokensForIdentifier(deps.db, relatesTo, types, aud);
  if (candidates.length === 0) return undefined;
  const expected = otpTokenHash(relatesTo, otp);
  let match = candidates.find((m) => tokensEqual(withoutFlowPrefix(m.token.token_hash), expected));
  const vendorVerifies = channelOf(relatesTo) === 'sms' && deps.sms?.verifyOtp && testOtpFor(deps, relatesTo) === undefined;
  if (!match && vendorVerifies && /^\d{4,10}$/.test(otp) && (await deps.sms!.verifyOtp!(relatesTo, otp))) match = candidates[0];
  if (match) return match;
  const counted = await recordFailedAttempts(deps.db, candidates.map((c) => c.token.id));
  for (const row of counted.filter((r) => r.verify_attempts >= MAX_WRONG_GUESSES)) {
    await deps.db.transaction().execute((trx) => dropToken(trx, row));
  }
  return undefined;
}

/** Expired when older than GOTRUE_MAILER_OTP_EXP / GOTRUE_SMS_OTP_EXP, dated by the users column's sent_at. */
export function isTokenExpired(deps: Pick<Deps, 'config' | 'clock'>, m: MatchedToken): boolean {
  const { sentAt } = tokenColumnsOf(m.user, m.token.token_type);
  const exp = channelOf(m.token.relates_to) === 'email' ? deps.config.mailer.otpExpSeconds : deps.config.sms.otpExp;
  return !sentAt || deps.clock.now().getTime() > sentAt.getTime() + exp * 1000;
}

/**
 * Consumes the token inside the verification's transaction with one DELETE … RETURNING: exactly one concurrent
 * caller deletes it and gets true; the users column is cleared with it.
 */
export async function consumeToken(trx: Executor, m: MatchedToken): Promise<boolean> {
  const row = await consumeOneTimeToken(trx, m.token.id, m.token.token_hash);
  if (!row) return false;
  await writeTokenColumn(trx, row.user_id, row.token_type, { token: '' }, row.token_hash);
  return true;
}
