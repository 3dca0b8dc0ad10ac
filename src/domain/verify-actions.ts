import type { AuditEntry } from '../db/repositories/audit-log';
import type { Executor } from '../db/database';
import * as identities from './identities';
import { findOneTimeToken } from '../db/repositories/one-time-tokens';
import { findUserByEmail, phoneTakenByAnother, updateUser, type UserChange } from '../db/repositories/users';
import type { JsonObject, UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from './audit';
import { revokeTokens } from './one-time-tokens';
import type { RequestMeta } from './request-meta';

/**
 * What a verified token does to its user (GoTrue's signupVerify, recoverVerify, emailChangeVerify, smsVerify),
 * inside the verification's transaction on the locked user row. Each returns the audit rows it wants written.
 */

type Ctx = { trx: Executor; deps: Pick<Deps, 'clock' | 'random' | 'config'>; meta: RequestMeta };

async function setMetadata(trx: Executor, userId: string, patch: JsonObject, current: JsonObject | null): Promise<void> {
  await updateUser(trx, userId, { raw_user_meta_data: JSON.stringify({ ...(current ?? {}), ...patch }) });
}

/** Merges into the identity_data of the user's identity for a provider, or creates that identity (signed in now). */
async function upsertIdentity(ctx: Ctx, user: UserRow, provider: 'email' | 'phone', data: JsonObject): Promise<void> {
  await identities.upsertIdentity(ctx.trx, { user, provider, data, now: ctx.deps.clock.now(), signedIn: true });
}

/** app_metadata.providers gains the provider (and provider is set when the user had none, e.g. anonymous). */
function withProvider(app: JsonObject | null, provider: string): string {
  const a = { ...(app ?? {}) };
  const providers = Array.isArray(a.providers) ? (a.providers as string[]) : [];
  if (!providers.includes(provider)) a.providers = [...providers, provider];
  if (typeof a.provider !== 'string' || a.provider === '') a.provider = provider;
  return JSON.stringify(a);
}

/** Confirms the email (signup, invite, and the first magic link / recovery of an unconfirmed user). */
export async function confirmEmail(ctx: Ctx, user: UserRow, encryptedPassword?: string): Promise<AuditEntry[]> {
  const patch: UserChange = { updated_at: ctx.deps.clock.now() };
  // An invited user who follows the link gets a random password, as GoTrue does; the app then asks for a real one.
  if (encryptedPassword !== undefined && !user.encrypted_password) patch.encrypted_password = encryptedPassword;
  if (user.email_confirmed_at) {
    await updateUser(ctx.trx, user.id, patch);
    return [];
  }
  patch.email_confirmed_at = ctx.deps.clock.now();
  await updateUser(ctx.trx, user.id, patch);
  await setMetadata(ctx.trx, user.id, { email_verified: true }, user.raw_user_meta_data);
  await upsertIdentity(ctx, user, 'email', { email: user.email, email_verified: true });
  return [auditEntry(ctx.deps, ctx.meta, user, 'user_signedup', { provider: 'email' })];
}

/** Confirms the phone (an SMS code for an unconfirmed phone user). */
export async function confirmPhone(ctx: Ctx, user: UserRow): Promise<AuditEntry[]> {
  if (user.phone_confirmed_at) return [];
  const now = ctx.deps.clock.now();
  await updateUser(ctx.trx, user.id, { phone_confirmed_at: now, updated_at: now });
  await setMetadata(ctx.trx, user.id, { phone_verified: true }, user.raw_user_meta_data);
  await upsertIdentity(ctx, user, 'phone', { phone: user.phone, phone_verified: true });
  return [auditEntry(ctx.deps, ctx.meta, user, 'user_signedup', { provider: 'phone' })];
}

/** The message GoTrue answers after the first of the two confirmations of a secure email change. */
export const EMAIL_CHANGE_FIRST_LEG = 'Confirmation link accepted. Please proceed to confirm link sent to the other email';

/**
 * An email change token was consumed. With secure email change and a current address, the first of the two
 * confirmations only records itself (confirm_status 1) and the result is 'pending'; the second (or the only one)
 * moves the address: email, the email identity, metadata, confirmation, is_anonymous cleared.
 */
export async function applyEmailChange(ctx: Ctx, user: UserRow, consumed: 'email_change_token_new' | 'email_change_token_current'): Promise<'pending' | AuditEntry[]> {
  const other = consumed === 'email_change_token_new' ? 'email_change_token_current' : 'email_change_token_new';
  const otherPending = await findOneTimeToken(ctx.trx, user.id, other);
  const now = ctx.deps.clock.now();
  if (ctx.deps.config.mailer.secureEmailChangeEnabled && user.email && (user.email_change_confirm_status ?? 0) === 0 && otherPending) {
    await updateUser(ctx.trx, user.id, { email_change_confirm_status: 1, updated_at: now });
    return 'pending';
  }
  const next = user.email_change;
  if (!next) throw unprocessable(ErrorCodes.validationFailed, 'No email change is pending');
  const taken = await findUserByEmail(ctx.trx, next, user.aud ?? '');
  if (taken && taken.id !== user.id) throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
  await updateUser(ctx.trx, user.id, {
    email: next,
    email_change: '',
    email_change_confirm_status: 0,
    email_confirmed_at: user.email_confirmed_at ?? now,
    is_anonymous: false,
    raw_app_meta_data: withProvider(user.raw_app_meta_data, 'email'),
    updated_at: now,
  });
  await revokeTokens(ctx.trx, user.id, ['email_change_token_new', 'email_change_token_current']);
  await setMetadata(ctx.trx, user.id, { email: next, email_verified: true }, user.raw_user_meta_data);
  await upsertIdentity(ctx, user, 'email', { email: next, email_verified: true });
  return [auditEntry(ctx.deps, ctx.meta, { ...user, email: next }, 'user_modified', { change: 'email' })];
}

/** A phone change code was consumed: the new phone becomes the user's, confirmed, with its phone identity. */
export async function applyPhoneChange(ctx: Ctx, user: UserRow): Promise<AuditEntry[]> {
  const next = user.phone_change;
  if (!next) throw unprocessable(ErrorCodes.validationFailed, 'No phone change is pending');
  if (await phoneTakenByAnother(ctx.trx, next, user.id)) throw unprocessable(ErrorCodes.phoneExists, 'A user with this phone number has already been registered');
  const now = ctx.deps.clock.now();
  await updateUser(ctx.trx, user.id, {
    phone: next,
    phone_change: '',
    phone_confirmed_at: now,
    is_anonymous: false,
    raw_app_meta_data: withProvider(user.raw_app_meta_data, 'phone'),
    updated_at: now,
  });
  await revokeTokens(ctx.trx, user.id, ['phone_change_token']);
  await upsertIdentity(ctx, user, 'phone', { phone: next, phone_verified: true });
  return [auditEntry(ctx.deps, ctx.meta, { ...user, phone: next }, 'user_modified', { change: 'phone' })];
}
