import { PKCE_PREFIX } from '../crypto/otp';
import { lockUser, recordSignIn, type UserWithRelations } from '../domain/user-records';
import type { OneTimeTokenType } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, forbidden } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries, type AuditEntry } from '../domain/audit';
import { issueEmailFlowCode } from '../domain/flow-state';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { consumeToken, findTokenByHash, findTokenByOtp, isTokenExpired, revokeAllTokens, type MatchedToken } from '../domain/one-time-tokens';
import type { RequestMeta } from '../domain/request-meta';
import { notify, type Notice } from '../domain/notifications';
import * as sessions from '../domain/sessions';
import { assertNotBanned } from '../domain/users';
import { applyEmailChange, applyPhoneChange, confirmEmail, confirmPhone, EMAIL_CHANGE_FIRST_LEG } from '../domain/verify-actions';

/** POST /verify and GET /verify (contract §1.3, §6.1–§6.5). */

export const VERIFY_TYPES = ['signup', 'invite', 'magiclink', 'recovery', 'email_change', 'email', 'sms', 'phone_change'] as const;
export type VerifyType = (typeof VERIFY_TYPES)[number];
export const isVerifyType = (t: string): t is VerifyType => (VERIFY_TYPES as readonly string[]).includes(t);

/** Which stored tokens a verification type may consume. */
const TOKEN_TYPES: Record<VerifyType, OneTimeTokenType[]> = {
  signup: ['confirmation_token'],
  invite: ['confirmation_token'],
  magiclink: ['recovery_token'],
  recovery: ['recovery_token'],
  email: ['confirmation_token', 'recovery_token'],
  email_change: ['email_change_token_new', 'email_change_token_current'],
  sms: ['confirmation_token'],
  phone_change: ['phone_change_token'],
};

/** The amr method of the session a PKCE link's code redeems for, by the token consumed and the link's type. */
function flowMethod(type: VerifyType, tokenType: OneTimeTokenType): string {
  if (tokenType === 'email_change_token_new' || tokenType === 'email_change_token_current') return 'email_change';
  if (tokenType === 'recovery_token') return type === 'recovery' ? 'recovery' : 'magiclink';
  return type === 'invite' ? 'invite' : 'email/signup';
}

export type VerifyOutcome =
  | { kind: 'session'; tokens: sessions.IssuedTokens; user: UserWithRelations }
  /** GET with a `pkce_` token: redirect with ?code=. */
  | { kind: 'code'; authCode: string }
  /** The first of the two confirmations of a secure email change. */
  | { kind: 'pending'; message: string };

export interface VerifyByOtp {
  type: string;
  token: string;
  email?: string;
  phone?: string;
}

const invalidToken = () => forbidden(ErrorCodes.otpExpired, 'Token has expired or is invalid');

export function parseVerifyType(type: string | undefined): VerifyType {
  if (!type) throw badRequest(ErrorCodes.validationFailed, 'Verify requires a verification type');
  if (!isVerifyType(type)) throw badRequest(ErrorCodes.validationFailed, 'Unsupported verification type');
  return type;
}

/** POST /verify {type, token, email|phone}: the typed code, recomputed into its hash. */
export async function verifyOtp(deps: Deps, meta: RequestMeta, input: VerifyByOtp): Promise<VerifyOutcome> {
  const type = parseVerifyType(input.type);
  let relatesTo: string;
  if (input.phone && !input.email) relatesTo = normalizePhone(input.phone);
  else if (input.email && !input.phone) relatesTo = normalizeEmail(input.email);
  else throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided on verify');
  const phoneType = type === 'sms' || type === 'phone_change';
  // A phone code for an email type (or the reverse) can match nothing: answered like a wrong code.
  if (phoneType !== !relatesTo.includes('@')) throw invalidToken();
  const token = input.token.trim();
  const match = await findTokenByOtp(deps, meta.aud, relatesTo, token, TOKEN_TYPES[type]);
  return complete(deps, meta, type, match, false);
}

/** POST /verify {type, token_hash} and GET /verify?token=: the stored hash itself. */
export async function verifyTokenHash(deps: Deps, meta: RequestMeta, typeIn: string, tokenHash: string, viaLink: boolean): Promise<VerifyOutcome> {
  const type = parseVerifyType(typeIn);
  const match = await findTokenByHash(deps.db, tokenHash.trim(), TOKEN_TYPES[type]);
  // Only a followed link (GET) answers with a PKCE code; POST always returns a session.
  return complete(deps, meta, type, match, viaLink && tokenHash.startsWith(PKCE_PREFIX));
}

async function complete(deps: Deps, meta: RequestMeta, type: VerifyType, match: MatchedToken | undefined, pkce: boolean): Promise<VerifyOutcome> {
  if (!match || isTokenExpired(deps, match)) throw invalidToken();
  const now = deps.clock.now();
  assertNotBanned(match.user, now, 'verify');
  const tokenType = match.token.token_type;
  // An invited user without a password gets a random one when confirming (hashed before the transaction).
  const randomPassword =
    tokenType === 'confirmation_token' && match.user.invited_at && !match.user.encrypted_password
      ? await deps.hasher.hash(deps.random.bytes(48).toString('base64url'))
      : undefined;

  // The security notification this verification calls for, sent after commit (GOTRUE_MAILER_NOTIFICATIONS_*).
  let notice: Notice | undefined;
  const result = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeToken(trx, match))) throw invalidToken();
    const user = (await lockUser(trx, match.user.id))!;
    const data = user.raw_user_meta_data;
    const ctx = { trx, deps, meta };
    const audits: AuditEntry[] = [];
    if (tokenType === 'confirmation_token' && match.token.relates_to.includes('@')) audits.push(...(await confirmEmail(ctx, user, randomPassword)));
    else if (tokenType === 'confirmation_token') audits.push(...(await confirmPhone(ctx, user)));
    else if (tokenType === 'recovery_token') audits.push(...(await confirmEmail(ctx, user)));
    else if (tokenType === 'phone_change_token') {
      audits.push(...(await applyPhoneChange(ctx, user)));
      const email = user.email ?? '';
      notice = { kind: 'phone_changed', n: { to: email, email, phone: user.phone_change ?? '', oldPhone: user.phone ?? '', data } };
      if (user.phone_change === user.phone) notice = undefined;
    } else if (tokenType === 'email_change_token_new' || tokenType === 'email_change_token_current') {
      const changed = await applyEmailChange(ctx, user, tokenType);
      if (changed === 'pending') return { kind: 'pending' as const };
      audits.push(...changed);
      // To the address the account had: its owner is the one to warn.
      notice = { kind: 'email_changed', n: { to: user.email ?? '', email: user.email_change ?? '', oldEmail: user.email ?? '', data } };
      if ((user.email ?? '').toLowerCase() === (user.email_change ?? '').toLowerCase()) notice = undefined;
    } else throw invalidToken();

    await revokeAllTokens(trx, user.id);
    const provider = match.token.relates_to.includes('@') ? 'email' : 'phone';
    if (pkce) {
      const { authCode } = await issueEmailFlowCode(trx, deps, user.id, flowMethod(type, tokenType));
      await insertAuditEntries(trx, audits);
      return { kind: 'code' as const, authCode };
    }
    await recordSignIn(trx, user.id, now, provider);
    // The audit rows ride on the session's statement.
    audits.push(auditEntry(deps, meta, user, 'login', { provider, type }));
    const started = await sessions.issue(trx, deps, { user, method: 'otp', meta, audit: audits });
    return { kind: 'session' as const, started };
  });

  if (result.kind === 'pending') return { kind: 'pending', message: EMAIL_CHANGE_FIRST_LEG };
  if (notice) await notify(deps, notice.kind, notice.n);
  if (result.kind === 'code') return result;
  return { kind: 'session', user: result.started.user, tokens: await sessions.mintTokens(deps, result.started) };
}
