import type { Deps } from '../deps';
import { badRequest, internalError, unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

export interface PasswordPolicy {
  minLength: number;
  requiredCharacters: string[];
}

/**
 * GoTrue's limit (bcrypt's), counted in bytes as Go's `len(password)`: a password longer than this is refused where
 * one is set (argon2 has no such limit, but GoTrue-compatible clients expect it, and unbounded input is a cheap DoS).
 * Passwords being checked (sign-in) are not bound by it: an imported hash may hold a longer one.
 */
export const MAX_PASSWORD_BYTES = 72;
export const PASSWORD_TOO_LONG = `Password cannot be longer than ${MAX_PASSWORD_BYTES} characters`;

/** Whether a password being set is within GoTrue's length limit. */
export const isSettablePasswordLength = (password: string): boolean => Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;

export interface Weakness {
  message: string;
  reasons: string[];
}

/** GoTrue's strength rules: reasons "length" and "characters" (the leak check, "pwned", is `passwordWeakness`). */
export function findWeakness(policy: PasswordPolicy, password: string): Weakness | undefined {
  const reasons: string[] = [];
  const messages: string[] = [];
  if ([...password].length < policy.minLength) {
    reasons.push('length');
    messages.push(`Password should be at least ${policy.minLength} characters.`);
  }
  if (policy.requiredCharacters.some((set) => ![...set].some((c) => password.includes(c)))) {
    reasons.push('characters');
    messages.push(`Password should contain at least one character of each: ${policy.requiredCharacters.join(', ')}.`);
  }
  return reasons.length === 0 ? undefined : { message: messages.join(' '), reasons };
}

/**
 * Throws 400 validation_failed for a password over the length limit (the HTTP edge refuses it first; this covers
 * callers without an edge, such as `./gotrue admin createuser`), and 422 weak_password (with
 * weak_password.reasons) for one that breaks the policy.
 */
export function assertAcceptablePassword(policy: PasswordPolicy, password: string): void {
  if (!isSettablePasswordLength(password)) throw badRequest(ErrorCodes.validationFailed, PASSWORD_TOO_LONG);
  const weak = findWeakness(policy, password);
  if (weak) {
    throw unprocessable(ErrorCodes.weakPassword, weak.message, { extra: { weak_password: { reasons: weak.reasons } } });
  }
}

const PWNED_MESSAGE = 'Password is known to be weak and easy to guess, please choose a different one.';

/**
 * GoTrue's checkPasswordStrength in full: the rules, then (GOTRUE_PASSWORD_HIBP_ENABLED) the leaked-password range
 * check, adding reason "pwned". When the range API cannot be asked, a fail-closed server throws GoTrue's 500 and a
 * fail-open one lets the password through with a warning; `failOpen` forces the latter (the password grant only
 * reports weakness, so an unreachable range API must not stop a sign-in).
 */
export async function passwordWeakness(
  deps: Pick<Deps, 'config' | 'pwnedPasswords' | 'logger'>,
  password: string,
  opts: { failOpen?: boolean } = {},
): Promise<Weakness | undefined> {
  const weak = findWeakness(deps.config.password, password);
  if (!deps.pwnedPasswords) return weak;
  let pwned: boolean;
  try {
    pwned = await deps.pwnedPasswords.isPwned(password);
  } catch (err) {
    if (deps.config.hibp.failClosed && !opts.failOpen) throw internalError('Unable to perform password strength check with HaveIBeenPwned.org.', err);
    deps.logger.warn({ err }, 'Unable to perform password strength check with HaveIBeenPwned.org, pwned passwords are being allowed');
    return weak;
  }
  if (!pwned) return weak;
  return { message: [weak?.message, PWNED_MESSAGE].filter(Boolean).join(' '), reasons: [...(weak?.reasons ?? []), 'pwned'] };
}

/** `assertAcceptablePassword` plus the leak check: where a user sets a password (signup, PUT /user, admin update). */
export async function assertStrongPassword(deps: Pick<Deps, 'config' | 'pwnedPasswords' | 'logger'>, password: string): Promise<void> {
  if (!isSettablePasswordLength(password)) throw badRequest(ErrorCodes.validationFailed, PASSWORD_TOO_LONG);
  const weak = await passwordWeakness(deps, password);
  if (weak) {
    throw unprocessable(ErrorCodes.weakPassword, weak.message, { extra: { weak_password: { reasons: weak.reasons } } });
  }
}
