import type { Executor } from '../db/database';
import { findIdentityOfUser, insertIdentityReturningId, setIdentityData } from '../db/repositories/identities';
import type { JsonObject, UserRow } from '../db/schema';

export interface IdentityUpsert {
  user: Pick<UserRow, 'id'>;
  /** The user's own email or phone identity (provider_id = the user's id). */
  provider: 'email' | 'phone';
  /** Merged into identity_data: the address and its *_verified flag. */
  data: JsonObject;
  now: Date;
  /** A new identity counts as used for sign-in now (a verified link); otherwise last_sign_in_at stays empty. */
  signedIn?: boolean;
}

/**
 * The one identity upsert, inside the caller's transaction: the user's email or phone identity gets `data`
 * merged into its identity_data, or is created as GoTrue shapes it ({sub, email_verified, phone_verified} under
 * `data`). `created` tells the caller app_metadata.providers must be synced.
 */
export async function upsertIdentity(trx: Executor, u: IdentityUpsert): Promise<{ id: string; created: boolean }> {
  const identity = await findIdentityOfUser(trx, u.user.id, u.provider);
  if (identity) {
    await setIdentityData(trx, identity.id, { ...identity.identity_data, ...u.data }, u.now);
    return { id: identity.id, created: false };
  }
  const id = await insertIdentityReturningId(trx, {
    providerId: u.user.id,
    userId: u.user.id,
    provider: u.provider,
    identityData: { sub: u.user.id, email_verified: false, phone_verified: false, ...u.data },
    now: u.now,
    lastSignInAt: u.signedIn ? u.now : null,
  });
  return { id, created: true };
}

/** Identity rows as the linking and sign-in flows read and change them. */
export {
  deleteIdentities,
  findIdentitiesByEmails,
  findIdentity,
  insertIdentityReturningId,
  listUserIdentities,
  updateIdentityData,
} from '../db/repositories/identities';
