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
 * grant_type=password. Unknown user, no password and wrong password all answer the same 400 after the same
 * hashing work. Ban and confirmation are only revealed to a caller who knows the password. A hash imported
 * from GoTrue (bcrypt, argon2) is replaced with one at our parameters in the same transaction.
 */
export async function passwordGrant(
  deps: Deps,
  meta: RequestMeta,
  input: PasswordGrantInput,
): Promise<{ tokens: sessions.IssuedTokens; user: UserWithRelations; sessionId: string; weakPassword?: Weakness }> {
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
  // Round trips 2–5 (after the look-up): BEGIN, the sign-in dates on user and identity, the session with its audit
  // row, COMMIT.
  const started = await deps.db.transaction().execute(async (trx) => {
    await recordSignIn(trx, signedIn.id, now, provider, { change: rehashed ? { encrypted_password: rehashed } : {}, touchIdentities: true });
    return sessions.issue(trx, deps, { user: signedIn, method: 'password', meta, audit: [auditEntry(deps, meta, signedIn, 'login', { provider })] });
  });
  return { tokens: await sessions.mintTokens(deps, started), user: started.user, sessionId: started.session.id, weakPassword: await passwordWeakness(deps, input.password, { failOpen: true }) };
}
