import { unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

export interface PasswordPolicy {
  minLength: number;
  requiredCharacters: string[];
}

/** Longest password accepted: argon2 has no 72-byte limit, but unbounded input is a cheap DoS. */
export const MAX_PASSWORD_LENGTH = 1024;

export interface Weakness {
  message: string;
  reasons: string[];
}

/** GoTrue's strength rules: reasons "length" and "characters" (HIBP "pwned" is not checked here). */
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

/** Throws 422 weak_password (with weak_password.reasons) for a password that breaks the policy. */
export function assertAcceptablePassword(policy: PasswordPolicy, password: string): void {
  if ([...password].length > MAX_PASSWORD_LENGTH) {
    throw unprocessable(ErrorCodes.validationFailed, `Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  const weak = findWeakness(policy, password);
  if (weak) {
    throw unprocessable(ErrorCodes.weakPassword, weak.message, { extra: { weak_password: { reasons: weak.reasons } } });
  }
}
