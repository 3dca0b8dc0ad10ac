import { newTotpKey, qrCodeSvg } from '../../crypto/totp';
import type { Deps } from '../../deps';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import type { AuthenticatedUser } from '../../domain/authenticate';
import * as factors from '../../domain/factors';
import { secretContext, type FactorType } from '../../domain/factors';
import { normalizePhone } from '../../domain/identifiers';
import { notify } from '../../domain/notifications';
import type { RequestMeta } from '../../domain/request-meta';
import * as sessions from '../../domain/sessions';
import { lockUser } from '../../domain/user-records';
import { badRequest, forbidden, unprocessable } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { assertNotAnonymous, factorNotFound, loadFactor } from '../../services/mfa';

/**
 * The /factors flows, GoTrue's mfa.go rule by rule. A factor is enrolled unverified; challenge and verify (which
 * raise the caller's session to aal2 in place) live in src/services/mfa.ts, shared with the hosted OAuth pages.
 */

export interface EnrollInput {
  factorType: string | undefined;
  friendlyName: string;
  issuer: string | undefined;
  phone: string | undefined;
}

export type EnrollResult =
  | { id: string; type: 'totp'; friendly_name: string; totp: { qr_code: string; secret: string; uri: string } }
  | { id: string; type: 'phone'; friendly_name: string; phone: string };

/**
 * POST /factors. Under the user's row lock: expired unverified factors are swept, then GoTrue's validateFactors —
 * a unique friendly name (`""` included, as GoTrue compares), at most MAX_ENROLLED factors and MAX_VERIFIED
 * verified ones, and a user with a verified factor enrols more only from an aal2 session (403 insufficient_aal).
 * TOTP: a new secret, sealed with the vault key when one is configured, returned once with its URI and QR code.
 * Phone: an E.164 number; an unverified factor of the same number is replaced, a verified one is 422. Audited.
 */
export async function enroll(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, input: EnrollInput): Promise<EnrollResult> {
  assertNotAnonymous(auth);
  const { mfa } = deps.config;
  let type: FactorType;
  switch (input.factorType) {
    case 'totp':
      if (!mfa.totp.enrollEnabled) throw unprocessable(ErrorCodes.mfaTotpEnrollNotEnabled, 'MFA enroll is disabled for TOTP');
      type = 'totp';
      break;
    case 'phone':
      if (!mfa.phone.enrollEnabled) throw unprocessable(ErrorCodes.mfaPhoneEnrollNotEnabled, 'MFA enroll is disabled for Phone');
      type = 'phone';
      break;
    case 'webauthn':
      throw unprocessable(ErrorCodes.mfaWebauthnEnrollNotEnabled, 'MFA enroll is disabled for WebAuthn');
    default:
      throw badRequest(ErrorCodes.validationFailed, 'factor_type needs to be totp, phone, or webauthn');
  }
  let phone: string | undefined;
  if (type === 'phone') {
    if (!input.phone) throw badRequest(ErrorCodes.validationFailed, 'Phone number required to enroll Phone factor');
    phone = normalizePhone(input.phone); // 400 validation_failed unless E.164
  }
  const { user } = auth;
  const factorId = deps.random.uuid();
  const now = deps.clock.now();
  const totp = type === 'totp' ? newTotpKey(deps.random, input.issuer || issuerOf(deps.config.siteUrl), user.email || user.phone || user.id) : undefined;
  const qrCode = totp ? await qrCodeSvg(totp.uri) : undefined;

  await deps.db.transaction().execute(async (trx) => {
    await lockUser(trx, user.id);
    await factors.deleteExpiredFactorsOfUser(trx, user.id, new Date(now.getTime() - mfa.factorExpiryMs));
    let current = await factors.listFactorsOfUser(trx, user.id);
    if (phone !== undefined) {
      const samePhone = (f: (typeof current)[number]) => f.factor_type === 'phone' && f.phone === phone;
      if (current.some((f) => samePhone(f) && f.status === 'verified')) {
        throw unprocessable(ErrorCodes.mfaVerifiedFactorExists, 'A verified phone factor already exists, unenroll the existing factor to continue');
      }
      await factors.deleteUnverifiedFactors(trx, user.id, { type: 'phone', phone });
      current = current.filter((f) => !samePhone(f));
    }
    if (current.some((f) => (f.friendly_name ?? '') === input.friendlyName)) {
      throw unprocessable(ErrorCodes.mfaFactorNameConflict, `A factor with the friendly name "${input.friendlyName}" for this user already exists`);
    }
    const verified = current.filter((f) => f.status === 'verified').length;
    if (current.length >= mfa.maxEnrolledFactors || verified >= mfa.maxVerifiedFactors) {
      throw unprocessable(ErrorCodes.tooManyEnrolledMfaFactors, 'Maximum number of verified factors reached, unenroll to continue');
    }
    if (verified > 0 && (await sessions.sessionAal(trx, user.id, auth.sessionId)) !== 'aal2') {
      throw forbidden(ErrorCodes.insufficientAal, 'AAL2 required to enroll a new factor');
    }
    const secret = totp ? (deps.vault.enabled ? deps.vault.seal(totp.secret, secretContext(factorId)) : totp.secret) : null;
    await factors.insertFactor(trx, {
      id: factorId,
      user_id: user.id,
      friendly_name: input.friendlyName,
      factor_type: type,
      status: 'unverified',
      created_at: now,
      updated_at: now,
      secret,
      phone: phone ?? null,
    });
    const traits = type === 'phone' ? { factor_id: factorId, factor_type: type } : { factor_id: factorId };
    await insertAuditEntries(trx, [auditEntry(deps, meta, user, 'factor_in_progress', traits)]);
  });
  if (totp) return { id: factorId, type: 'totp', friendly_name: input.friendlyName, totp: { qr_code: qrCode!, secret: totp.secret, uri: totp.uri } };
  return { id: factorId, type: 'phone', friendly_name: input.friendlyName, phone: input.phone! };
}

/** GoTrue's default issuer: the host of GOTRUE_SITE_URL. */
function issuerOf(siteUrl: string): string {
  try {
    return new URL(siteUrl).host;
  } catch {
    return siteUrl;
  }
}

/**
 * DELETE /factors/{id}. A verified factor needs an aal2 session (422 insufficient_aal, as GoTrue). The factor and
 * its challenges go, the sessions it raised drop to aal1 (all of them when no verified factor is left). Audited.
 */
export async function unenroll(deps: Deps, meta: RequestMeta, auth: AuthenticatedUser, factorId: string): Promise<{ id: string }> {
  assertNotAnonymous(auth);
  const factor = await loadFactor(deps, auth, factorId);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    if (factor.status === 'verified' && (await sessions.sessionAal(trx, auth.user.id, auth.sessionId)) !== 'aal2') {
      throw unprocessable(ErrorCodes.insufficientAal, 'AAL2 required to unenroll verified factor');
    }
    const deleted = await factors.deleteFactorOfUser(trx, auth.user.id, factor.id);
    if (!deleted) throw factorNotFound();
    const traits = { factor_id: factor.id, factor_status: factor.status, session_id: auth.sessionId ?? null };
    await insertAuditEntries(trx, [auditEntry(deps, meta, auth.user, 'factor_unenrolled', traits)]);
    const orphanedCodes = await factors.lowerSessionsAfterFactorDeleted(trx, factor, now);
    if (orphanedCodes.length > 0) {
      const gone = orphanedCodes.map((id) => auditEntry(deps, meta, auth.user, 'recovery_codes_deleted', { factor_id: id, reason: 'last_factor_unenrolled' }));
      await insertAuditEntries(trx, gone);
    }
  });
  await notify(deps, 'mfa_factor_unenrolled', { to: auth.user.email ?? '', email: auth.user.email ?? '', factorType: factor.factor_type, data: auth.user.raw_user_meta_data });
  return { id: factor.id };
}
