import type { Executor } from '../db/database';
import { findUserByEmail, findUserByPhone, recordSignIn, type UserWithRelations } from '../domain/user-records';
import type { Deps } from '../deps';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry } from '../domain/audit';
import { normalizeEmail, normalizePhone } from '../domain/identifiers';
import { passwordWeakness, type Weakness } from '../domain/password-policy';
import type { RequestMeta } from '../domain/request-meta';
import * as sessions from '../domain/sessions';
import { assertNotBanned } from '../domain/users';
import * as hooks from '../domain/hooks';
import { endSessions } from '../domain/user-sessions';

export interface PasswordGrantInput {
  email?: string;
  phone?: string;
  password: string;
}

const invalidCredentials = () => badRequest(ErrorCodes.invalidCredentials, 'Invalid login credentials');

/**
 * grant_type=password: the sign-in step (passwordSignIn) with the session's first refresh token, then minted. Unknown
 * user, no password and wrong password all answer the same 400 after the same hashing work. Ban and confirmation are
 * only revealed to a caller who knows the password. A hash imported from GoTrue (bcrypt, argon2) is replaced with one
 * at our parameters in the same transaction.
 */
export async function passwordGrant(
  deps: Deps,
  meta: RequestMeta,
  input: PasswordGrantInput,
): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations; weakPassword?: Weakness }> {
  const started = await passwordSignIn(deps, meta, input, (trx, start) => sessions.issue(trx, deps, start));
  return { tokens: await sessions.mintTokens(deps, started), user: started.user, weakPassword: await passwordWeakness(deps, input.password, { failOpen: true }) };
}

/**
 * The password grant's sign-in without its tokens (the hosted OAuth pages' sign-in form): the same checks, rate
 * limit (the route's), hook, audit row and session, but the session is held by reference (domain/sessions startTokenlessSession):
 * no refresh token is written and nothing is minted.
 */
export async function passwordSession(deps: Deps, meta: RequestMeta, input: PasswordGrantInput): Promise<{ user: UserWithRelations; sessionId: string }> {
  const started = await passwordSignIn(deps, meta, input, (trx, start) => sessions.startTokenlessSession(trx, deps, start));
  return { user: started.user, sessionId: started.session.id };
}

/**
 * The session step of a password sign-in: the user found by email or phone, the password verified (the
 * password_verification_attempt hook asked about every attempt on an existing user), confirmation and ban checked,
 * then one transaction records the sign-in dates (and a rehash) and `start`s the session with the login audit row.
 * Round trips 2–5 (after the look-up): BEGIN, the sign-in dates on user and identity, the session with its audit
 * row, COMMIT.
 */
async function passwordSignIn<S>(deps: Deps, meta: RequestMeta, input: PasswordGrantInput, start: (trx: Executor, session: sessions.TokenlessStart) => Promise<S>): Promise<S> {
  const { config } = deps;
  let user;
  let provider: 'email' | 'phone';
  if (input.email !== undefined && input.email !== '') {
    if (!config.external.email.enabled) throw badRequest(ErrorCodes.emailProviderDisabled, 'Email logins are disabled');
    provider = 'email';
    user = await findUserByEmail(deps.db, normalizeEmail(input.email), meta.aud);
  } else if (input.phone !== undefined && input.phone !== '') {
    if (!config.external.phone.enabled) throw badRequest(ErrorCodes.phoneProviderDisabled, 'Phone logins are disabled');
    provider = 'phone';
    user = await findUserByPhone(deps.db, normalizePhone(input.phone), meta.aud);
  } else {
    throw badRequest(ErrorCodes.validationFailed, 'An email address or phone number is required');
  }

  if (!user || !user.encrypted_password) {
    await deps.hasher.burn(input.password);
    throw invalidCredentials();
  }
  const check = await deps.hasher.verify(user.encrypted_password, input.password);
  if (deps.hooks.enabled('password_verification_attempt')) {
    // GoTrue asks the hook about every attempt on an existing user, right or wrong, outside any transaction.
    const verdict = await hooks.passwordVerificationAttempt(deps, { userId: user.id, valid: check.valid, ip: meta.ip });
    if (verdict.reject) {
      if (verdict.shouldLogoutUser) deps.backchannelLogout.notify((await endSessions(deps.db, user.id)).backchannel);
      throw badRequest(ErrorCodes.invalidCredentials, verdict.message);
    }
  }
  if (!check.valid) throw invalidCredentials();
  if (provider === 'email' && !user.email_confirmed_at) throw badRequest(ErrorCodes.emailNotConfirmed, 'Email not confirmed');
  if (provider === 'phone' && !user.phone_confirmed_at) throw badRequest(ErrorCodes.phoneNotConfirmed, 'Phone not confirmed');
  const now = deps.clock.now();
  assertNotBanned(user, now, 'token');

  const rehashed = check.needsRehash ? await deps.hasher.hash(input.password) : undefined;
  const signedIn = user;
  return deps.db.transaction().execute(async (trx) => {
    await recordSignIn(trx, signedIn.id, now, provider, { change: rehashed ? { encrypted_password: rehashed } : {}, touchIdentities: true });
    return start(trx, { user: signedIn, method: 'password', meta, audit: [auditEntry(deps, meta, signedIn, 'login', { provider })] });
  });
}
