import { findUserByEmail, findUserWithRelations, lockUser, updateUser, type UserWithRelations } from '../domain/user-records';
import type { JwtClaims } from '../crypto/jwt';
import type { Deps } from '../deps';
import { unprocessable } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { auditEntry, insertAuditEntries } from '../domain/audit';
import { isUuid, normalizeEmail } from '../domain/identifiers';
import { announceNewUser, createUser, deleteUnsentNewUser, vetNewUser } from '../domain/users';
import { deliver, prepareMail } from '../domain/outbox';
import type { RequestMeta } from '../domain/request-meta';

export interface InviteInput {
  email: string;
  data?: Record<string, unknown>;
  redirectTo: string;
}

/**
 * POST /invite (admin): creates the user (no password, invited_at set) or re-invites an unconfirmed one, and mails
 * the invite; following its link (type=invite) confirms the address and signs in, and the app then asks for a
 * password (PUT /user). A confirmed address is 422 email_exists. A failed send removes the just-created user.
 */
export async function invite(deps: Deps, meta: RequestMeta, admin: JwtClaims, input: InviteInput): Promise<UserWithRelations> {
  const email = normalizeEmail(input.email);
  const existing = await findUserByEmail(deps.db, email, meta.aud);
  if (existing?.email_confirmed_at) throw unprocessable(ErrorCodes.emailExists, 'A user with this email address has already been registered');
  const actor = {
    id: isUuid(admin.sub) ? admin.sub : '00000000-0000-0000-0000-000000000000',
    email: typeof admin.email === 'string' && admin.email !== '' ? admin.email : (admin.role ?? null),
    phone: null,
    raw_user_meta_data: null,
  };
  const newUser = existing ? undefined : await vetNewUser(deps, meta, { channel: { kind: 'email', email, confirmed: false }, userMetadata: input.data ?? {}, invited: true });
  const made = await deps.db.transaction().execute(async (trx) => {
    const user = existing ? (await lockUser(trx, existing.id))! : (await createUser(trx, deps, meta, newUser!)).user;
    if (existing) await updateUser(trx, user.id, { invited_at: deps.clock.now() });
    const audit = auditEntry(deps, meta, actor, 'user_invited', { user_id: user.id, user_email: email });
    await insertAuditEntries(trx, [audit]);
    const message = await prepareMail(trx, deps, { user, kind: 'invite', tokenType: 'confirmation_token', to: email, redirectTo: input.redirectTo, throttle: false });
    return { user, message, auditIds: [audit.id] };
  });
  await deliver(
    deps,
    [made.message],
    existing ? undefined : (trx) => deleteUnsentNewUser(trx, made.user.id, { column: 'confirmation_token', token: made.message.tokenHash }, made.auditIds),
  );
  const user = (await findUserWithRelations(deps.db, made.user.id))!;
  if (!existing) await announceNewUser(deps, meta, user);
  return user;
}
