import type { Deps } from '../../deps';
import { badRequest, unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { isUuid, normalizeEmail, normalizePhone } from '../../domain/identifiers';
import type { RequestMeta } from '../../domain/request-meta';
import { findUserByEmail, findUserByPhone, findUserWithRelations, INSTANCE_ID, type UserWithRelations } from '../../domain/user-records';
import { rethrowUniqueViolation } from '../../domain/unique-violation';
import { createUser } from '../../domain/users';
import { bannedUntil, parseBanDuration } from './ban';
import { encryptedPasswordFrom } from './password-input';
import { auditActorOf, userTraits, type AdminActor } from './actor';

/** POST /admin/users (and `gotrue admin createuser`). Empty strings count as absent, as in GoTrue. */
export interface AdminCreateUserInput {
  id?: string;
  aud?: string;
  role?: string;
  email?: string;
  phone?: string;
  password?: string;
  /** An imported bcrypt, argon2 or Firebase scrypt hash, instead of a password. */
  passwordHash?: string;
  emailConfirm?: boolean;
  phoneConfirm?: boolean;
  userMetadata?: Record<string, unknown>;
  appMetadata?: Record<string, unknown>;
  /** A Go duration, or "none" (see parseBanDuration). */
  banDuration?: string;
}

const present = (s: string | undefined): s is string => s !== undefined && s !== '';

/** Checks a free-text column value against its varchar(255) limit. */
export function assertColumnText(name: string, value: string): string {
  const v = value.trim();
  if (v.length > 255) throw badRequest(ErrorCodes.validationFailed, `${name} cannot be longer than 255 characters`);
  return v;
}

/**
 * Creates a user as an admin: email and/or phone (each with its identity); a password, an imported password hash
 * or neither (such a user signs in once a password is set, or through the email/phone flows); confirmed at once on
 * request; in any role and audience; banned from the start if asked. Sends nothing. One transaction, with GoTrue's
 * user_signedup audit row naming the admin.
 */
export async function adminCreateUser(deps: Deps, meta: RequestMeta, actor: AdminActor, input: AdminCreateUserInput): Promise<UserWithRelations> {
  const { config } = deps;
  if (!present(input.email) && !present(input.phone)) {
    throw badRequest(ErrorCodes.validationFailed, 'Cannot create a user without either an email or phone');
  }
  const aud = present(input.aud) ? assertColumnText('aud', input.aud) : meta.aud;
  const email = present(input.email) ? normalizeEmail(input.email) : undefined;
  const phone = present(input.phone) ? normalizePhone(input.phone) : undefined;
  if (email && (await findUserByEmail(deps.db, email, aud))) {
    throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
  }
  if (phone && (await findUserByPhone(deps.db, phone, aud))) {
    throw unprocessable(ErrorCodes.phoneExists, 'Phone number already registered by another user');
  }
  let id = deps.random.uuid();
  if (present(input.id)) {
    if (!isUuid(input.id)) throw badRequest(ErrorCodes.validationFailed, 'ID must conform to the uuid v4 format');
    if (input.id === INSTANCE_ID) throw badRequest(ErrorCodes.validationFailed, 'ID cannot be a nil uuid');
    id = input.id.toLowerCase();
  }
  const role = present(input.role) ? assertColumnText('role', input.role) : config.jwt.defaultGroupName;
  const ban = present(input.banDuration) ? parseBanDuration(input.banDuration) : undefined;

  // As in GoTrue, an empty password means none (and then the user has no password until one is set).
  const encrypted =
    (await encryptedPasswordFrom(deps, {
      password: present(input.password) ? input.password : undefined,
      passwordHash: present(input.passwordHash) ? input.passwordHash : undefined,
    })) ?? null;

  const channel = {
    kind: 'admin' as const,
    email,
    phone,
    emailConfirmed: input.emailConfirm === true,
    phoneConfirmed: input.phoneConfirm === true,
    appMetadata: input.appMetadata ?? {},
    bannedUntil: ban === undefined ? null : bannedUntil(deps.clock.now(), ban),
  };
  try {
    await deps.db.transaction().execute(async (trx) => {
      const { user } = await createUser(trx, deps, meta, { channel, id, aud, role, encryptedPassword: encrypted, userMetadata: input.userMetadata ?? {} });
      await insertAuditEntries(trx, [auditEntry(deps, meta, auditActorOf(actor), 'user_signedup', userTraits(user))]);
    });
  } catch (err) {
    // A concurrent call won the race past the pre-checks above.
    rethrowUniqueViolation(err);
  }
  return (await findUserWithRelations(deps.db, id))!;
}
