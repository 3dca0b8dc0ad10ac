import { INSTANCE_ID } from '../domain/user-records';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import type { PkceParams } from '../domain/flow-state';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { prepareConfirmation, resendConfirmation, type SendContext } from '../domain/confirmations';
import { assertSmsSendable, deliver, parseChannel, type PreparedMessage } from '../domain/outbox';
import { assertStrongPassword } from '../domain/password-policy';
import type { RequestMeta } from '../domain/request-meta';
import { findUserByEmail, findUserByPhone, findUserWithRelations, type UserWithRelations } from '../domain/user-records';
import * as sessions from '../domain/sessions';
import { isUniqueViolation } from '../domain/unique-violation';
import { parityTimer, type ParityTimer } from '../domain/timing-parity';
import { announceNewUser, createUser, deleteUnsentNewUser, vetNewUser } from '../domain/users';

export interface SignupInput {
  email?: string;
  phone?: string;
  password?: string;
  data?: Record<string, unknown>;
  /** sms | whatsapp, for phone sign-ups. */
  channel?: string;
  /** PKCE: the confirmation link then answers `?code=` for this challenge. */
  pkce?: PkceParams;
  /** The validated redirect_to (contract §6.7) the confirmation link lands on. */
  redirectTo?: string;
}

export type SignupResult =
  | { kind: 'session'; tokens: sessions.IssuedTokens; user: UserWithRelations }
  | { kind: 'user'; user: UserWithRelations };

/**
 * POST /signup. Email or phone with a password; neither = anonymous sign-in. With autoconfirm a session comes
 * back; otherwise the user is stored unconfirmed and gets the confirmation mail (or SMS), sent after commit. A
 * second signup for a confirmed address answers like a new one (a look-alike user, same work done) unless
 * autoconfirm is on, exactly where GoTrue reveals it; for an unconfirmed one the confirmation is sent again.
 */
export async function signup(deps: Deps, meta: RequestMeta, input: SignupInput): Promise<SignupResult> {
  const { config } = deps;
  if (input.email !== undefined && input.phone !== undefined) {
    throw badRequest(ErrorCodes.validationFailed, 'Only an email address or phone number should be provided on signup.');
  }
  if (input.email === undefined && input.phone === undefined) return signupAnonymously(deps, meta, input.data ?? {});
  if (config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');

  const channel = input.email !== undefined ? 'email' : 'phone';
  if (channel === 'email' && !config.external.email.enabled) throw badRequest(ErrorCodes.emailProviderDisabled, 'Email signups are disabled');
  if (channel === 'phone' && !config.external.phone.enabled) throw badRequest(ErrorCodes.phoneProviderDisabled, 'Phone signups are disabled');
  const email = input.email !== undefined ? normalizeEmail(input.email) : undefined;
  const phone = input.phone !== undefined ? normalizePhone(input.phone) : undefined;
  const smsChannel = channel === 'phone' ? parseChannel(deps, input.channel) : 'sms';
  if (!input.password) throw unprocessable(ErrorCodes.validationFailed, 'Signup requires a valid password');
  await assertStrongPassword(deps, input.password);
  const autoconfirm = channel === 'email' ? config.mailer.autoconfirm : config.sms.autoconfirm;
  if (phone && !autoconfirm) assertSmsSendable(deps, phone);

  const existing = email ? await findUserByEmail(deps.db, email, meta.aud) : await findUserByPhone(deps.db, phone!, meta.aud);
  // The hash is computed either way, so a known address costs the same time as a new one.
  const encrypted = await deps.hasher.hash(input.password);
  // From here a new sign-up creates the user and sends the confirmation; a confirmed address's look-alike waits as long.
  const parity = parityTimer(deps, `signup:${channel}`);
  const ctx: SendContext = { via: channel, pkce: input.pkce, redirectTo: input.redirectTo ?? config.siteUrl, smsChannel };
  if (existing) return repeatedSignup(deps, meta, existing, autoconfirm, input, channel, ctx, parity);

  const via = email !== undefined ? { kind: 'email' as const, email, confirmed: autoconfirm } : { kind: 'phone' as const, phone: phone!, confirmed: autoconfirm };
  // With autoconfirm the sign-up is also the first sign-in.
  const newUser = await vetNewUser(deps, meta, { channel: via, encryptedPassword: encrypted, userMetadata: input.data ?? {}, signedIn: autoconfirm });
  let created: { user: UserRow; started?: sessions.IssuedSession; message?: PreparedMessage; auditIds: string[] };
  try {
    created = await deps.db.transaction().execute(async (trx) => {
      const { user } = await createUser(trx, deps, meta, newUser);
      const audits = [auditEntry(deps, meta, user, autoconfirm ? 'user_signedup' : 'user_confirmation_requested', { provider: channel })];
      let started: sessions.IssuedSession | undefined;
      let message: PreparedMessage | undefined;
      if (autoconfirm) {
        // The audit rows ride on the session's statement: BEGIN, user, identity, session, COMMIT.
        audits.push(auditEntry(deps, meta, user, 'login', { provider: channel }));
        started = await sessions.issue(trx, deps, { user, method: 'password', meta, audit: audits });
      } else {
        message = await prepareConfirmation(trx, deps, user, ctx, false);
        await insertAuditEntries(trx, audits);
      }
      return { user, started, message, auditIds: audits.map((a) => a.id) };
    });
  } catch (err) {
    // A concurrent signup for the same address won the race: answer as for an existing user.
    if (!isUniqueViolation(err)) throw err;
    const winner = email ? await findUserByEmail(deps.db, email, meta.aud) : await findUserByPhone(deps.db, phone!, meta.aud);
    if (!winner) throw err;
    return repeatedSignup(deps, meta, winner, autoconfirm, input, channel, ctx, parity);
  }

  if (created.message) {
    // The send failed → the just-created user goes again, so the same signup can simply be retried.
    const { user, message, auditIds } = created;
    await deliver(deps, [message], (trx) => deleteUnsentNewUser(trx, user.id, { column: 'confirmation_token', token: message.tokenHash }, auditIds));
  }
  const started = created.started;
  if (started) {
    await announceNewUser(deps, meta, started.user);
    return { kind: 'session', user: started.user, tokens: await sessions.mintTokens(deps, started) };
  }
  const user = (await findUserWithRelations(deps.db, created.user.id))!;
  await announceNewUser(deps, meta, user);
  parity.record();
  return { kind: 'user', user };
}

async function repeatedSignup(
  deps: Deps,
  meta: RequestMeta,
  existing: UserRow,
  autoconfirm: boolean,
  input: SignupInput,
  channel: 'email' | 'phone',
  ctx: SendContext,
  parity: ParityTimer,
): Promise<SignupResult> {
  // With autoconfirm GoTrue says so openly. It would also confirm an unconfirmed account and hand its session to
  // whoever asked, without checking the password; we refuse that instead.
  if (autoconfirm) throw unprocessable(ErrorCodes.userAlreadyExists, 'User already registered');
  await insertAuditEntries(deps.db, [auditEntry(deps, meta, existing, 'user_repeated_signup', { provider: channel })]);
  const confirmed = channel === 'email' ? existing.email_confirmed_at : existing.phone_confirmed_at;
  if (!confirmed) {
    // Unconfirmed: the confirmation goes out again (throttled), and the real user comes back, as in GoTrue.
    await resendConfirmation(deps, meta, existing.id, ctx);
    return { kind: 'user', user: (await findUserWithRelations(deps.db, existing.id))! };
  }
  // No user is created and no mail sent here: answer after as long as a real sign-up takes (timing-parity.ts).
  await parity.imitate();
  return { kind: 'user', user: lookAlikeUser(deps, meta, input, channel) };
}

/** GoTrue's sanitizeUser: what a confirmed address's repeated signup returns, so it looks like a new signup. */
function lookAlikeUser(deps: Deps, meta: RequestMeta, input: SignupInput, channel: 'email' | 'phone'): UserWithRelations {
  const now = deps.clock.now();
  return {
    instance_id: INSTANCE_ID,
    id: deps.random.uuid(),
    aud: meta.aud,
    role: '',
    email: channel === 'email' ? normalizeEmail(input.email!) : '',
    phone: channel === 'phone' ? normalizePhone(input.phone!) : '',
    encrypted_password: null,
    email_confirmed_at: null,
    invited_at: null,
    confirmation_token: null,
    confirmation_sent_at: now,
    recovery_token: null,
    recovery_sent_at: null,
    email_change_token_new: null,
    email_change: null,
    email_change_sent_at: null,
    last_sign_in_at: null,
    raw_app_meta_data: { provider: channel, providers: [channel] },
    raw_user_meta_data: input.data ?? {},
    is_super_admin: null,
    created_at: now,
    updated_at: now,
    phone_confirmed_at: null,
    phone_change: null,
    phone_change_token: null,
    phone_change_sent_at: null,
    confirmed_at: null,
    email_change_token_current: null,
    email_change_confirm_status: 0,
    banned_until: null,
    reauthentication_token: null,
    reauthentication_sent_at: null,
    is_sso_user: false,
    deleted_at: null,
    is_anonymous: false,
    identities: [],
    factors: [],
  };
}

/** Anonymous sign-in: a user with no identity, JWT is_anonymous=true, amr "anonymous". */
async function signupAnonymously(deps: Deps, meta: RequestMeta, data: Record<string, unknown>): Promise<SignupResult> {
  if (!deps.config.external.anonymousUsers.enabled) {
    throw unprocessable(ErrorCodes.anonymousProviderDisabled, 'Anonymous sign-ins are disabled');
  }
  if (deps.config.disableSignup) throw unprocessable(ErrorCodes.signupDisabled, 'Signups not allowed for this instance');
  const newUser = await vetNewUser(deps, meta, { channel: { kind: 'anonymous' }, userMetadata: data, signedIn: true });
  const started = await deps.db.transaction().execute(async (trx) => {
    const { user } = await createUser(trx, deps, meta, newUser);
    const actor = { id: user.id, email: null, phone: null, raw_user_meta_data: null };
    return sessions.issue(trx, deps, {
      user,
      method: 'anonymous',
      meta,
      audit: [auditEntry(deps, meta, actor, 'user_signedup', { provider: 'anonymous' }), auditEntry(deps, meta, actor, 'login', { provider: 'anonymous' })],
    });
  });
  await announceNewUser(deps, meta, started.user);
  return { kind: 'session', user: started.user, tokens: await sessions.mintTokens(deps, started) };
}

