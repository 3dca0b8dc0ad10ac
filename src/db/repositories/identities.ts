import type { Executor } from '../database';

export interface NewIdentity {
  providerId: string;
  userId: string;
  provider: string;
  identityData: Record<string, unknown>;
  now: Date;
  lastSignInAt?: Date | null;
}

export async function insertIdentity(ex: Executor, i: NewIdentity): Promise<void> {
  await ex
    .insertInto('identities')
    .values({
      provider_id: i.providerId,
      user_id: i.userId,
      provider: i.provider,
      identity_data: JSON.stringify(i.identityData),
      last_sign_in_at: i.lastSignInAt ?? null,
      created_at: i.now,
      updated_at: i.now,
    })
    .execute();
}

/** Marks the user's identity for a provider as used for sign-in now. */
export async function touchIdentity(ex: Executor, userId: string, provider: string, now: Date): Promise<void> {
  await ex
    .updateTable('identities')
    .set({ last_sign_in_at: now, updated_at: now })
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .execute();
}
