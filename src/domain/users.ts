import type { Executor } from '../db/database';
import { deleteIdentities, insertIdentitiesReturningIds, listUserIdentities, providersOfUser, type NewIdentity } from '../db/repositories/identities';
import { deleteUserWhileTokenIs, INSTANCE_ID, insertUserReturning, updateUser } from '../db/repositories/users';
import type { JsonObject, UserRow, UserUpdate } from '../db/schema';
import type { Deps } from '../deps';
import { badRequest, forbidden, unprocessable, type ApiError } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { upsertIdentity } from './identities';
import type { RequestMeta } from './request-meta';
import { rethrowUniqueViolation } from './unique-violation';
import * as hooks from './hooks';

/**
 * The user rules every flow shares: what a new user looks like per sign-up channel, confirming an email or phone,
 * app_metadata.providers, metadata merges, bans, and undoing a sign-up whose first message never went out.
 */

/** GoTrue's metadata merge: top-level keys are set, a null value deletes its key. */
export function mergeMetadata(current: JsonObject | null, update: Record<string, unknown>): JsonObject {
  const out: JsonObject = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * app_metadata with `providers` = these identity providers (the user's, oldest identity first) and `provider`
 * kept while it is one of them, else the first (none: removed). The one rule for keeping the two in step.
 */
export function appMetadataWithProviders(app: JsonObject | null, providers: string[]): JsonObject {
  const out: JsonObject = { ...(app ?? {}), providers: [...new Set(providers)] };
  if (typeof out.provider !== 'string' || !providers.includes(out.provider)) {
    if (providers[0] !== undefined) out.provider = providers[0];
    else delete out.provider;
  }
  return out;
}

/** Re-derives app_metadata.providers from the user's identities and writes it, inside the caller's transaction. */
export async function syncProviders(trx: Executor, user: Pick<UserRow, 'id' | 'raw_app_meta_data'>, now: Date): Promise<JsonObject> {
  const app = appMetadataWithProviders(user.raw_app_meta_data, await providersOfUser(trx, user.id));
  await updateUser(trx, user.id, { raw_app_meta_data: JSON.stringify(app), updated_at: now });
  return app;
}

/** How a user comes to be; the channel decides its identities, contact columns and metadata. */
export type NewUserChannel =
  /** POST /signup, /otp, invites, generate_link: the address is the user's one identity. */
  | { kind: 'email'; email: string; confirmed: boolean }
  | { kind: 'phone'; phone: string; confirmed: boolean }
  /** An anonymous sign-in: no identity, app_metadata {}. */
  | { kind: 'anonymous' }
  /** An upstream provider's user (the account-linking decision found no one to attach it to). */
  | { kind: 'provider'; provider: string; subject: string; identityData: JsonObject; email: string | null }
  /** POST /admin/users: email and/or phone; `appMetadata` is merged over the providers (null deletes a key). */
  | { kind: 'admin'; email?: string; phone?: string; emailConfirmed: boolean; phoneConfirmed: boolean; appMetadata: JsonObject; bannedUntil: Date | null };

export interface NewUserInput {
  channel: NewUserChannel;
  /** Defaults: a random id, the request's audience, GOTRUE_JWT_DEFAULT_GROUP_NAME. */
  id?: string;
  aud?: string;
  role?: string;
  /** Email and phone sign-ups store '' for none, as GoTrue's NewUser; other channels null. */
  encryptedPassword?: string | null;
  /** The caller's user_metadata (signup `data`, an admin's user_metadata). */
  userMetadata?: JsonObject;
  /** An invite: invited_at is set. */
  invited?: boolean;
  /** The sign-up signs in at once (autoconfirm, anonymous): last_sign_in_at is now, on the user and its identities. */
  signedIn?: boolean;
}

interface Shape {
  email: string | null;
  phone: string | null;
  emailConfirmed: boolean;
  phoneConfirmed: boolean;
  identities: Omit<NewIdentity, 'userId' | 'now'>[];
  userMetadata: JsonObject;
  appMetadata: JsonObject;
  encryptedPassword: string | null;
}

/** Email or phone identity_data as GoTrue writes it for a user's own address. */
const contactData = (id: string, contact: { email: string } | { phone: string }, emailVerified: boolean, phoneVerified: boolean): JsonObject => ({
  sub: id,
  ...contact,
  email_verified: emailVerified,
  phone_verified: phoneVerified,
});

function shapeOf(id: string, input: NewUserInput, now: Date): Shape {
  const c = input.channel;
  const data = input.userMetadata ?? {};
  const lastSignInAt = input.signedIn ? now : null;
  const own = (provider: 'email' | 'phone', identityData: JsonObject) => ({ providerId: id, provider, identityData, lastSignInAt });
  switch (c.kind) {
    case 'email':
    case 'phone': {
      const identityData =
        c.kind === 'email' ? contactData(id, { email: c.email }, c.confirmed, false) : contactData(id, { phone: c.phone }, false, c.confirmed);
      return {
        email: c.kind === 'email' ? c.email : null,
        phone: c.kind === 'phone' ? c.phone : null,
        emailConfirmed: c.kind === 'email' && c.confirmed,
        phoneConfirmed: c.kind === 'phone' && c.confirmed,
        identities: [own(c.kind, identityData)],
        // Self-service sign-ups carry the identity's claims in user_metadata too.
        userMetadata: { ...data, ...identityData },
        appMetadata: appMetadataWithProviders({}, [c.kind]),
        encryptedPassword: input.encryptedPassword ?? '',
      };
    }
    case 'anonymous':
      return { email: null, phone: null, emailConfirmed: false, phoneConfirmed: false, identities: [], userMetadata: data, appMetadata: {}, encryptedPassword: input.encryptedPassword ?? null };
    case 'provider':
      return {
        email: c.email,
        phone: null,
        emailConfirmed: false,
        phoneConfirmed: false,
        // A provider identity is made at its first sign-in.
        identities: [{ providerId: c.subject, provider: c.provider, identityData: c.identityData, lastSignInAt: now }],
        userMetadata: { ...data, ...c.identityData },
        appMetadata: appMetadataWithProviders({}, [c.provider]),
        encryptedPassword: input.encryptedPassword ?? null,
      };
    case 'admin': {
      const identities = [
        ...(c.email !== undefined ? [own('email', contactData(id, { email: c.email }, c.emailConfirmed, false))] : []),
        ...(c.phone !== undefined ? [own('phone', contactData(id, { phone: c.phone }, false, c.phoneConfirmed))] : []),
      ];
      return {
        email: c.email ?? null,
        phone: c.phone ?? null,
        emailConfirmed: c.email !== undefined && c.emailConfirmed,
        phoneConfirmed: c.phone !== undefined && c.phoneConfirmed,
        identities,
        userMetadata: { ...data, ...(c.emailConfirmed && c.email !== undefined ? { email_verified: true } : {}), ...(c.phoneConfirmed && c.phone !== undefined ? { phone_verified: true } : {}) },
        appMetadata: mergeMetadata(appMetadataWithProviders({}, identities.map((i) => i.provider)), c.appMetadata),
        encryptedPassword: input.encryptedPassword ?? null,
      };
    }
  }
}

/**
 * Creates a user with its identities, for every sign-up channel, inside the caller's transaction, as GoTrue
 * shapes them: app_metadata {provider, providers}, identity_data {sub, email|phone, email_verified,
 * phone_verified} for the user's own addresses. Returns the row as stored and the new identities' ids (in the
 * channel's order: email before phone). A concurrent sign-up that took the address fails on the unique index
 * (see unique-violation.ts).
 */
export async function createUser(
  trx: Executor,
  deps: Pick<Deps, 'clock' | 'random' | 'config'>,
  meta: RequestMeta,
  input: NewUserInput,
): Promise<{ user: UserRow; identityIds: string[] }> {
  const now = deps.clock.now();
  const id = input.id ?? deps.random.uuid();
  const shape = shapeOf(id, input, now);
  const user = await insertUserReturning(trx, {
    ...newUserValues(deps, meta, id, input, shape, now),
    raw_app_meta_data: JSON.stringify(shape.appMetadata),
    raw_user_meta_data: JSON.stringify(shape.userMetadata),
  });
  const identityIds = await insertIdentitiesReturningIds(
    trx,
    shape.identities.map((i) => ({ ...i, userId: id, now })),
  );
  return { user, identityIds };
}

/** The users row of a new user, metadata aside. */
function newUserValues(deps: Pick<Deps, 'config'>, meta: RequestMeta, id: string, input: NewUserInput, shape: Shape, now: Date) {
  return {
    instance_id: INSTANCE_ID,
    id,
    aud: input.aud ?? meta.aud,
    role: input.role ?? deps.config.jwt.defaultGroupName,
    email: shape.email,
    phone: shape.phone,
    encrypted_password: shape.encryptedPassword,
    email_confirmed_at: shape.emailConfirmed ? now : null,
    phone_confirmed_at: shape.phoneConfirmed ? now : null,
    invited_at: input.invited ? now : null,
    banned_until: input.channel.kind === 'admin' ? input.channel.bannedUntil : null,
    last_sign_in_at: input.signedIn ? now : null,
    created_at: now,
    updated_at: now,
    is_anonymous: input.channel.kind === 'anonymous',
  };
}

/**
 * GoTrue's triggerBeforeUserCreated: with the before-user-created hook on, the hook sees the user about to be
 * created — GoTrue's User JSON, no identities yet — before any transaction, and an error answer refuses the
 * sign-up with the hook's error. Returns the input with its id fixed, so the user created is the one the hook saw.
 */
export async function vetNewUser(deps: Pick<Deps, 'clock' | 'random' | 'config' | 'hooks'>, meta: RequestMeta, input: NewUserInput): Promise<NewUserInput> {
  if (!deps.hooks.enabled('before_user_created')) return input;
  const now = deps.clock.now();
  const id = input.id ?? deps.random.uuid();
  const shape = shapeOf(id, input, now);
  const planned = { ...newUserValues(deps, meta, id, input, shape, now), raw_app_meta_data: shape.appMetadata, raw_user_meta_data: shape.userMetadata };
  await hooks.beforeUserCreated(deps, { user: hooks.hookUser(planned as unknown as UserRow), ip: meta.ip });
  return { ...input, id };
}

/**
 * GoTrue's triggerAfterUserCreated: with the after-user-created hook on, it hears of the user once its transaction
 * (and first message) went through. An error answer is the request's error; the user stays, as in GoTrue.
 */
export async function announceNewUser(deps: Pick<Deps, 'hooks'>, meta: RequestMeta, user: UserRow): Promise<void> {
  if (!deps.hooks.enabled('after_user_created')) return;
  await hooks.afterUserCreated(deps, { user, ip: meta.ip });
}

/**
 * Confirms the user's email or phone (GoTrue's User.Confirm / ConfirmPhone) inside the caller's transaction, on
 * the locked row: *_confirmed_at now, user_metadata.*_verified = true, and the matching identity marked verified
 * (created when missing, with providers synced). False, with nothing written, when it was confirmed already.
 */
export async function confirmContact(trx: Executor, deps: Pick<Deps, 'clock'>, user: UserRow, channel: 'email' | 'phone'): Promise<boolean> {
  if (channel === 'email' ? user.email_confirmed_at : user.phone_confirmed_at) return false;
  const now = deps.clock.now();
  const verified = channel === 'email' ? { email_verified: true } : { phone_verified: true };
  const patch: UserUpdate = {
    ...(channel === 'email' ? { email_confirmed_at: now } : { phone_confirmed_at: now }),
    raw_user_meta_data: JSON.stringify({ ...(user.raw_user_meta_data ?? {}), ...verified }),
    updated_at: now,
  };
  const contact = channel === 'email' ? { email: user.email } : { phone: user.phone };
  const { created } = await upsertIdentity(trx, { user, provider: channel, data: { ...contact, ...verified }, now, signedIn: true });
  if (created) patch.raw_app_meta_data = JSON.stringify(appMetadataWithProviders(user.raw_app_meta_data, await providersOfUser(trx, user.id)));
  await updateUser(trx, user.id, patch);
  return true;
}

/**
 * GoTrue's DeleteIdentity rule, inside the caller's transaction on the locked user: the user keeps at least one
 * identity; unlinking `phone` clears the phone; otherwise the email is re-derived from the identities left (an
 * address another user holds → email_conflict_identity_not_deletable); app_metadata.providers follows. Returns
 * the identity removed.
 */
export async function removeIdentity(trx: Executor, deps: Pick<Deps, 'clock'>, user: UserRow, identityId: string) {
  const identities = await listUserIdentities(trx, user.id);
  if (identities.length <= 1) throw unprocessable(ErrorCodes.singleIdentityNotDeletable, 'User must have at least 1 identity after unlinking');
  const target = identities.find((i) => i.id === identityId);
  if (!target) throw unprocessable(ErrorCodes.identityNotFound, "Identity doesn't exist");
  await deleteIdentities(trx, [target.id]);
  const left = identities.filter((i) => i.id !== target.id);
  const app = appMetadataWithProviders(user.raw_app_meta_data, left.map((i) => i.provider));
  const patch: UserUpdate = { raw_app_meta_data: JSON.stringify(app), updated_at: deps.clock.now() };
  if (target.provider === 'phone') patch.phone = null;
  else if (!left.some((i) => i.email && i.email === user.email?.toLowerCase())) {
    // The email came from the identity that went: fall back to the oldest remaining identity's email.
    patch.email = left.find((i) => i.email)?.email ?? null;
  }
  await updateUser(trx, user.id, patch).catch((err: unknown) =>
    rethrowUniqueViolation(err, {
      users_email_partial_key: (cause) => unprocessable(ErrorCodes.emailConflictIdentityNotDeletable, 'Unable to unlink identity due to email conflict', { cause }),
    }),
  );
  return target;
}

/**
 * Where a ban is checked. GoTrue answers 400 at the token endpoint (the password grant; the refresh grant with its
 * own message) and 403 everywhere else. The PKCE grant, which GoTrue leaves unchecked, answers as the token endpoint.
 */
export type BanCheckpoint = 'token' | 'refresh' | 'verify' | 'external' | 'request';

const BANNED: Record<BanCheckpoint, () => ApiError> = {
  token: () => badRequest(ErrorCodes.userBanned, 'User is banned'),
  refresh: () => badRequest(ErrorCodes.userBanned, 'Invalid Refresh Token: User Banned'),
  verify: () => forbidden(ErrorCodes.userBanned, 'User is banned'),
  external: () => forbidden(ErrorCodes.userBanned, 'User is banned'),
  request: () => forbidden(ErrorCodes.userBanned, 'User is banned'),
};

/** The one ban rule: a user is banned while banned_until lies after `now` (GoTrue's IsBanned). */
export function isBanned(user: Pick<UserRow, 'banned_until'>, now: Date): boolean {
  return user.banned_until !== null && user.banned_until > now;
}

/** The ban check: a banned user (isBanned) is refused, with GoTrue's answer for the checkpoint. */
export function assertNotBanned(user: Pick<UserRow, 'banned_until'>, now: Date, at: BanCheckpoint): void {
  if (isBanned(user, now)) throw BANNED[at]();
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
  await deleteUserWhileTokenIs(trx, userId, sent.column, sent.token, auditIds);
}
