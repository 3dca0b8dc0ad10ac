import { unprocessable, type ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/**
 * Postgres unique violations (SQLSTATE 23505) and what they mean to a client. A pre-check (is this email taken?)
 * answers the common case; the constraint answers the race a concurrent request wins past it, with the same
 * error, in one place.
 */

/** An answer to a violated constraint; the database error becomes its (logged, never sent) cause. */
export type ViolationAnswer = (cause: unknown) => ApiError;

/** The constraints whose violation means the same thing wherever it happens. */
const ANSWERS: Record<string, ViolationAnswer> = {
  users_email_partial_key: (cause) => unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered', { cause }),
  users_phone_key: (cause) => unprocessable(ErrorCodes.phoneExists, 'Phone number already registered by another user', { cause }),
  users_pkey: (cause) => unprocessable(ErrorCodes.userAlreadyExists, 'A user with this ID already exists', { cause }),
  mfa_factors_user_friendly_name_unique: (cause) =>
    unprocessable(ErrorCodes.mfaFactorNameConflict, 'A factor with the friendly name already exists for this user', { cause }),
  unique_phone_factor_per_user: (cause) => unprocessable(ErrorCodes.phoneExists, 'A phone factor with this number already exists for this user', { cause }),
};

const own = (answers: Record<string, ViolationAnswer>, key: string) => (Object.hasOwn(answers, key) ? answers[key] : undefined);

/** The unique constraint (or unique index) a database error violated; undefined for any other error. */
export function violatedConstraint(err: unknown): string | undefined {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  if (e?.code !== '23505') return undefined;
  return typeof e.constraint === 'string' ? e.constraint : '';
}

export const isUniqueViolation = (err: unknown): boolean => violatedConstraint(err) !== undefined;

/**
 * Throws the answer to a unique violation: the place's own answer for its constraint (`here`), else the common
 * one; anything else — another error, a constraint with no answer — is rethrown unchanged.
 */
export function rethrowUniqueViolation(err: unknown, here: Record<string, ViolationAnswer> = {}): never {
  const constraint = violatedConstraint(err);
  const answer = constraint === undefined ? undefined : (own(here, constraint) ?? own(ANSWERS, constraint));
  if (answer) throw answer(err);
  throw err;
}
