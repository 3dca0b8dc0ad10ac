import type { Executor } from '../db/database';
import { updateUserSignedIn, type UserChange } from '../db/repositories/users';

/**
 * User rows as the flows read and change them: look-ups (by email or phone within an audience, by id with the
 * identities and factors every response shows), the row lock that serialises changes to one user, and changes that
 * leave the one-time token columns alone (UserChange: domain/one-time-tokens writes those). Creating a user is
 * domain/users' part.
 */
export {
  findUserByEmail,
  findUserByPhone,
  findUsersByEmails,
  findUserWithRelations,
  INSTANCE_ID,
  lockUser,
  updateUser,
  type FactorJson,
  type IdentityJson,
  type UserChange,
  type UserWithRelations,
} from '../db/repositories/users';

/**
 * Dates a sign-in on the user and on its identities (all of them, or only the provider's), in one statement.
 * `change`: more columns of the user row written by the same statement (a rehashed password);
 * `touchIdentities`: the identities' updated_at moves too (the password grant's, as GoTrue's).
 */
export async function recordSignIn(
  ex: Executor,
  userId: string,
  now: Date,
  provider?: string,
  opts: { change?: UserChange; touchIdentities?: boolean } = {},
): Promise<void> {
  await updateUserSignedIn(ex, userId, { last_sign_in_at: now, updated_at: now, ...opts.change }, { now, provider, touchUpdatedAt: opts.touchIdentities ?? false });
}
