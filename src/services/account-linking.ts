import type { Executor } from '../db/database';
import type { Notice } from '../domain/notifications';
import { insertAuditEntries, type AuditEntry } from '../domain/audit';
import { deleteIdentities, findIdentitiesByEmails, findIdentity, insertIdentityReturningId, listUserIdentities, updateIdentityData } from '../domain/identities';
import { findUserByEmail, findUsersByEmails, lockUser, updateUser } from '../domain/user-records';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { ProviderUserData } from '../external/types';
import type { ApiError} from '../errors/api-error';
import { badRequest, internalError, notFound, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import type { RequestMeta } from '../domain/request-meta';
import { resendConfirmation } from '../domain/confirmations';
import { assertNotBanned, createUser, syncProviders, vetNewUser } from '../domain/users';

export interface ExternalIdentityInput {
  /** identities.provider: `github`, `custom:acme` … */
  provider: string;
  userData: ProviderUserData;
  emailOptional: boolean;
  /** Manual linking: attach to this user (flow_state.linking_target_id, or id_token with link_identity). */
  linkingTargetId?: string | null;
  /** The id a new user gets: the one the before-user-created hook saw (vetExternalSignUp). */
  newUserId?: string;
}

export interface ExternalIdentityResult {
  user: UserRow;
  identityId: string;
  /** A refusal the caller answers with after committing (GoTrue's NewCommitWithError): the user is kept. */
  refusal?: ApiError;
  /** Integration point for the mail issue: this user should get a confirmation mail after commit. */
  confirmationFor?: { id: string; email: string | null };
  /** A security notification to send after commit (manual linking: identity_linked). */
  notice?: Notice;
  /** The user was created by this sign-in (the after-user-created hook hears of it after commit). */
  created?: boolean;
}

/** The provider's emails, lower-cased, and the candidate: the primary one (else the first). */
function emailsOf(d: ProviderUserData) {
  const emails = d.emails.filter((e) => e.email).map((e) => ({ ...e, email: e.email.trim().toLowerCase() }));
  const candidate = emails.find((e) => e.primary) ?? emails[0];
  return { emails, candidate };
}

/** identity_data as stored: the provider's claims plus sub, and the candidate email with its verified flag. */
function identityDataOf(d: ProviderUserData): Record<string, unknown> {
  const { candidate } = emailsOf(d);
  return {
    ...d.metadata,
    sub: d.sub,
    ...(candidate ? { email: candidate.email, email_verified: candidate.verified } : {}),
  };
}

const json = (v: unknown) => JSON.stringify(v);

/**
 * Signs a provider's user in, contract §6.6 (GoTrue's DetermineAccountLinking and createAccountFromExternalIdentity),
 * inside the caller's transaction; audit rows are written here. The same (provider_id, provider) → that user;
 * else verified emails (all, under autoconfirm) matching one user → attach; else a new user. A new account with
 * an unverified email is created unconfirmed and refused with provider_email_needs_verification (committed).
 */
export async function signInExternalIdentity(trx: Executor, deps: Deps, meta: RequestMeta, input: ExternalIdentityInput): Promise<ExternalIdentityResult> {
  if (input.linkingTargetId) return linkToUser(trx, deps, meta, input, input.linkingTargetId);
  const { config } = deps;
  const now = deps.clock.now();
  const { emails, candidate } = emailsOf(input.userData);
  if (emails.length === 0 && !input.emailOptional) {
    throw badRequest(ErrorCodes.badOauthCallback, 'Error getting user email from external provider');
  }
  const identityData = identityDataOf(input.userData);
  const verified = emails.filter((e) => e.verified || config.mailer.autoconfirm).map((e) => e.email);
  const audits: AuditEntry[] = [];

  let user: UserRow;
  let identityId: string;
  let createdUser = false;
  const existing = await findIdentity(trx, input.userData.sub, input.provider);
  if (existing) {
    user = (await lockUser(trx, existing.user_id))!;
    identityId = existing.id;
    await updateIdentityData(trx, existing.id, identityData, now);
    await updateUser(trx, user.id, { raw_user_meta_data: json({ ...(user.raw_user_meta_data ?? {}), ...identityData }), updated_at: now });
  } else {
    const target = await linkingCandidate(trx, meta, verified);
    if (target) {
      user = (await lockUser(trx, target))!;
      identityId = await insertIdentityReturningId(trx, { providerId: input.userData.sub, userId: user.id, provider: input.provider, identityData, now, lastSignInAt: now });
      await updateUser(trx, user.id, { raw_user_meta_data: json({ ...(user.raw_user_meta_data ?? {}), ...identityData }), updated_at: now });
    } else {
      if (config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');
      const channel = await newUserChannel(trx, meta, input);
      const created = await createUser(trx, deps, meta, { channel, ...(input.newUserId ? { id: input.newUserId } : {}) });
      user = created.user;
      identityId = created.identityIds[0]!;
      createdUser = true;
    }
  }
  await syncProviders(trx, user, now);
  user = (await lockUser(trx, user.id))!;
  assertNotBanned(user, now, 'external');

  let result: ExternalIdentityResult = { user, identityId, ...(createdUser ? { created: true } : {}) };
  if (emails.length > 0 && !user.email_confirmed_at) {
    await removeUnconfirmedIdentities(trx, user, identityId, identityData, now);
    if (candidate?.verified || config.mailer.autoconfirm) {
      audits.push(auditEntry(deps, meta, user, 'user_signedup', { provider: input.provider }));
      await updateUser(trx, user.id, {
        email_confirmed_at: now,
        raw_user_meta_data: json({ ...identityData, email_verified: true }),
        updated_at: now,
      });
    } else {
      const mailable = Boolean(user.email);
      result = {
        ...result,
        confirmationFor: mailable ? { id: user.id, email: user.email } : undefined,
        refusal: config.mailer.allowUnverifiedEmailSignIns
          ? undefined
          : unprocessable(
              ErrorCodes.providerEmailNeedsVerification,
              mailable && deps.mailer
                ? `Unverified email with ${input.provider}. A confirmation email has been sent to your ${input.provider} email`
                : `Unverified email with ${input.provider}. Verify the email with ${input.provider} in order to sign in`,
            ),
      };
    }
  } else {
    audits.push(auditEntry(deps, meta, user, 'login', { provider: input.provider }));
  }
  await insertAuditEntries(trx, audits);
  return { ...result, user: (await lockUser(trx, user.id))! };
}

/** The user verified emails point at, within the default linking domain; several → GoTrue's 500. */
/** The new user's channel: an address already taken by another account is not copied onto the new one. */
async function newUserChannel(ex: Executor, meta: RequestMeta, input: ExternalIdentityInput) {
  const { candidate } = emailsOf(input.userData);
  const taken = candidate ? await findUserByEmail(ex, candidate.email, meta.aud) : undefined;
  return { kind: 'provider' as const, provider: input.provider, subject: input.userData.sub, identityData: identityDataOf(input.userData), email: candidate && !taken ? candidate.email : null };
}

/**
 * GoTrue's triggerBeforeUserCreatedExternal: before the sign-in's transaction, when the before-user-created hook is
 * on and this sign-in would create an account (no such identity, no account to link to), the hook sees the user
 * and may refuse it. Returns the id the user is then created with (pass it as `newUserId`).
 */
export async function vetExternalSignUp(deps: Deps, meta: RequestMeta, input: ExternalIdentityInput): Promise<string | undefined> {
  if (!deps.hooks.enabled('before_user_created') || input.linkingTargetId) return undefined;
  if (await findIdentity(deps.db, input.userData.sub, input.provider)) return undefined;
  const verified = emailsOf(input.userData).emails.filter((e) => e.verified || deps.config.mailer.autoconfirm).map((e) => e.email);
  if (await linkingCandidate(deps.db, meta, verified)) return undefined;
  if (deps.config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');
  const vetted = await vetNewUser(deps, meta, { channel: await newUserChannel(deps.db, meta, input) });
  return vetted.id;
}

async function linkingCandidate(trx: Executor, meta: RequestMeta, verified: string[]): Promise<string | undefined> {
  if (verified.length === 0) return undefined;
  // SSO identities (sso:<id>) live in their own linking domains.
  const similar = (await findIdentitiesByEmails(trx, verified)).filter((i) => !i.provider.startsWith('sso:'));
  if (similar.length > 0) {
    const owners = new Set(similar.map((i) => i.user_id));
    if (owners.size > 1) throw internalError('Multiple accounts with the same email address in the same linking domain detected: default');
    return similar[0]!.user_id;
  }
  const users = await findUsersByEmails(trx, verified, meta.aud);
  if (users.length > 1) throw internalError('Multiple accounts with the same email address in the same linking domain detected: default');
  return users[0]?.id;
}

/**
 * An unconfirmed account taken over by a provider login: its other identities and its password are dropped
 * (they were never proven), and its metadata becomes this identity's, against pre-account takeover.
 */
async function removeUnconfirmedIdentities(trx: Executor, user: UserRow, keepId: string, identityData: Record<string, unknown>, now: Date): Promise<void> {
  const others = (await listUserIdentities(trx, user.id)).filter((i) => i.id !== keepId);
  await deleteIdentities(trx, others.map((i) => i.id));
  await updateUser(trx, user.id, { encrypted_password: null, raw_user_meta_data: json(identityData), updated_at: now });
  await syncProviders(trx, (await lockUser(trx, user.id))!, now);
}

/** Manual linking (GoTrue's linkIdentityToUser): the identity must not exist yet, for anyone. */
async function linkToUser(trx: Executor, deps: Deps, meta: RequestMeta, input: ExternalIdentityInput, targetId: string): Promise<ExternalIdentityResult> {
  const now = deps.clock.now();
  const target = await lockUser(trx, targetId);
  if (!target) throw notFound(ErrorCodes.userNotFound, 'User not found');
  const existing = await findIdentity(trx, input.userData.sub, input.provider);
  if (existing) {
    throw unprocessable(ErrorCodes.identityAlreadyExists, existing.user_id === targetId ? 'Identity is already linked' : 'Identity is already linked to another user');
  }
  const { candidate } = emailsOf(input.userData);
  const identityData = identityDataOf(input.userData);
  const identityId = await insertIdentityReturningId(trx, { providerId: input.userData.sub, userId: targetId, provider: input.provider, identityData, now, lastSignInAt: now });
  const patch: Parameters<typeof updateUser>[2] = { updated_at: now, is_anonymous: false };
  if (!target.email && candidate) {
    const taken = await findUserByEmail(trx, candidate.email, target.aud ?? meta.aud);
    if (taken && taken.id !== targetId) throw badRequest(ErrorCodes.emailExists, 'A user with this email address has already been registered');
    patch.email = candidate.email;
    if (candidate.verified) patch.email_confirmed_at = target.email_confirmed_at ?? now;
  }
  await updateUser(trx, targetId, patch);
  await syncProviders(trx, (await lockUser(trx, targetId))!, now);
  await insertAuditEntries(trx, [auditEntry(deps, meta, target, 'identity_linked', { provider: input.provider })]);
  const user = (await lockUser(trx, targetId))!;
  return {
    user,
    identityId,
    confirmationFor: candidate && !candidate.verified && user.email === candidate.email && !user.email_confirmed_at ? { id: user.id, email: user.email } : undefined,
    notice: { kind: 'identity_linked', n: { to: user.email ?? '', email: user.email ?? '', provider: input.provider, data: user.raw_user_meta_data } },
  };
}

/**
 * After an external sign-in met an unverified provider email on a new (or unconfirmed) account: the confirmation
 * mail to that address, as GoTrue sends it. When the sign-in is refused (provider_email_needs_verification, whose
 * message says a confirmation email has been sent), a mail that does not go out fails the sign-in instead, as in
 * GoTrue: inside GOTRUE_SMTP_MAX_FREQUENCY that is 429 over_email_send_rate_limit, never a claim that a mail was
 * sent. When unverified sign-ins are allowed, the session was already issued, so a failed mail is only logged.
 */
export async function sendProviderEmailConfirmation(
  deps: Deps,
  meta: RequestMeta,
  user: { id: string; email: string | null },
  redirectTo: string,
  signInRefused: boolean,
): Promise<void> {
  if (!user.email) return;
  try {
    await resendConfirmation(deps, meta, user.id, { via: 'email', pkce: undefined, redirectTo, smsChannel: 'sms' });
  } catch (err) {
    if (signInRefused) throw err;
    deps.logger.warn({ err, user_id: user.id }, 'could not send the confirmation mail for an unverified provider email');
  }
}
