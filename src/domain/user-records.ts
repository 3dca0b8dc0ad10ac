import type { Executor } from '../db/database';
import { markIdentitiesSignedIn } from '../db/repositories/identities';
import { updateUser } from '../db/repositories/users';

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

/** Dates a sign-in on the user and on its identities: all of them, or only the provider's. */
export async function recordSignIn(ex: Executor, userId: string, now: Date, provider?: string): Promise<void> {
  await updateUser(ex, userId, { last_sign_in_at: now, updated_at: now });
  await markIdentitiesSignedIn(ex, userId, now, provider);
}
