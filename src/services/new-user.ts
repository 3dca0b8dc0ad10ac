import type { Executor } from '../db/database';
import { insertIdentity } from '../db/repositories/identities';
import { INSTANCE_ID, insertUser } from '../db/repositories/users';
import type { UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { RequestMeta } from '../domain/request-meta';

export interface NewUserInput {
  email?: string | undefined;
  phone?: string | undefined;
  /** Null for users who sign in by link or code only (OTP sign-ups, invites). */
  encryptedPassword: string | null;
  data: Record<string, unknown>;
  /** Autoconfirm: the address counts as verified from the start. */
  confirmed: boolean;
  /** Invites record invited_at. */
  invited?: boolean;
}

/**
 * Inserts a user with its email or phone identity, inside the caller's transaction, as GoTrue shapes them:
 * app_metadata {provider, providers}, identity_data {sub, email|phone, email_verified, phone_verified} also merged
 * into user_metadata.
 */
export async function insertNewUser(trx: Executor, deps: Pick<Deps, 'clock' | 'random' | 'config'>, meta: RequestMeta, input: NewUserInput): Promise<UserRow> {
  const now = deps.clock.now();
  const id = deps.random.uuid();
  const channel = input.email !== undefined ? 'email' : 'phone';
  const identityData: Record<string, unknown> = {
    sub: id,
    ...(input.email !== undefined ? { email: input.email } : { phone: input.phone }),
    email_verified: channel === 'email' && input.confirmed,
    phone_verified: channel === 'phone' && input.confirmed,
  };
  await insertUser(trx, {
    instance_id: INSTANCE_ID,
    id,
    aud: meta.aud,
    role: deps.config.jwt.defaultGroupName,
    email: input.email ?? null,
    phone: input.phone ?? null,
    encrypted_password: input.encryptedPassword ?? '',
    email_confirmed_at: channel === 'email' && input.confirmed ? now : null,
    phone_confirmed_at: channel === 'phone' && input.confirmed ? now : null,
    invited_at: input.invited ? now : null,
    raw_app_meta_data: JSON.stringify({ provider: channel, providers: [channel] }),
    raw_user_meta_data: JSON.stringify({ ...input.data, ...identityData }),
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  });
  await insertIdentity(trx, { providerId: id, userId: id, provider: channel, identityData, now, lastSignInAt: null });
  return (await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst())!;
}

/**
 * Undoes a sign-up whose first message could not be sent: deletes the user (identities, tokens and sessions go by
 * cascade), its flows and the audit rows that recorded it — but only while it is still the untouched user this
 * request made (the token column still holds the token of the unsent message), so a concurrent request that has
 * since sent its own message successfully keeps the user.
 */
export async function deleteUnsentNewUser(
  trx: Executor,
  userId: string,
  sent: { column: 'confirmation_token' | 'recovery_token'; token: string },
  auditIds: string[],
): Promise<void> {
  const gone = await trx.deleteFrom('users').where('id', '=', userId).where(sent.column, '=', sent.token).returning('id').executeTakeFirst();
  if (!gone) return;
  await trx.deleteFrom('flow_state').where('user_id', '=', userId).execute();
  if (auditIds.length > 0) await trx.deleteFrom('audit_log_entries').where('id', 'in', auditIds).execute();
}
