import { z } from 'zod';
import { endpoint } from '../../http/endpoint';
import { optString, uuidParam } from '../../http/fields';
import { tokenResponseJson } from '../../http/shapes';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { isUuid } from '../../domain/identifiers';
import { challenge, verify } from '../../services/mfa';
import { enroll, unenroll } from './flows';
import * as recoveryCodes from './recovery-codes';

/** Thin handlers for GoTrue's /factors routes (parse, one call, shape); the rules live in flows.ts. */

const FactorPath = z.object({ factor_id: uuidParam('factor_id') });

const EnrollBody = z.object({
  factor_type: optString(64),
  friendly_name: optString(),
  issuer: optString(),
  phone: optString(256),
});

/** POST /factors {factor_type, friendly_name?, issuer?, phone?} → {id, type, friendly_name, totp{qr_code, secret, uri} | phone} */
export const enrollFactor = endpoint({ auth: 'user', body: EnrollBody }, async ({ body, meta, user }, deps) =>
  enroll(deps, meta, user, { factorType: body.factor_type, friendlyName: body.friendly_name ?? '', issuer: body.issuer, phone: body.phone }),
);

const ChallengeBody = z.object({ channel: optString(32) }).optional();

/** POST /factors/{id}/challenge {channel?} → {id, type, expires_at} */
export const challengeFactor = endpoint({ auth: 'user', params: FactorPath, body: ChallengeBody }, async ({ params, body, meta, user }, deps) =>
  challenge(deps, meta, user, params.factor_id, body?.channel),
);

const VerifyBody = z.object({ challenge_id: optString(64), code: optString(64) });

/** POST /factors/{id}/verify {challenge_id, code} → a token response at aal2 */
export const verifyFactor = endpoint({ auth: 'user', params: FactorPath, body: VerifyBody }, async ({ params, body, meta, user }, deps) => {
  if (!body.challenge_id || !isUuid(body.challenge_id)) throw badRequest(ErrorCodes.validationFailed, 'challenge_id must be an UUID');
  if (!body.code) throw badRequest(ErrorCodes.validationFailed, 'Code needs to be non-empty');
  const { tokens, user: updated } = await verify(deps, meta, user, params.factor_id, { challengeId: body.challenge_id.toLowerCase(), code: body.code.trim() });
  return tokenResponseJson(tokens, updated);
});

/** DELETE /factors/{id} → {id} */
export const unenrollFactor = endpoint({ auth: 'user', params: FactorPath }, async ({ params, meta, user }, deps) => unenroll(deps, meta, user, params.factor_id));

// MFA recovery codes (auth-js's experimental mfa.recoveryCodes); the rules live in recovery-codes.ts.

/** GET /factors/recovery-codes → {id, type: 'recovery_code', total, remaining} */
export const recoveryCodesStatus = endpoint({ auth: 'user' }, async ({ user }, deps) => recoveryCodes.status(deps, user));

const GenerateBody = z.object({ friendly_name: optString() }).optional();

/** POST /factors/recovery-codes {friendly_name?} → {id, type, friendly_name, total, codes} (the codes shown once) */
export const generateRecoveryCodes = endpoint({ auth: 'user', body: GenerateBody }, async ({ body, meta, user }, deps) =>
  recoveryCodes.generate(deps, meta, user, body?.friendly_name),
);

/** POST /factors/recovery-codes/regenerate → a new set, as generate */
export const regenerateRecoveryCodes = endpoint({ auth: 'user' }, async ({ meta, user }, deps) => recoveryCodes.regenerate(deps, meta, user));

const RecoveryVerifyBody = z.object({ code: optString(256) });

/** POST /factors/recovery-codes/verify {code} → a token response at aal2 */
export const verifyRecoveryCode = endpoint({ auth: 'user', body: RecoveryVerifyBody }, async ({ body, meta, user }, deps) => {
  if (!body.code?.trim()) throw badRequest(ErrorCodes.validationFailed, 'Code needs to be non-empty');
  const { tokens, user: updated } = await recoveryCodes.verify(deps, meta, user, body.code);
  return tokenResponseJson(tokens, updated);
});

/** DELETE /factors/recovery-codes → {id} */
export const deleteRecoveryCodes = endpoint({ auth: 'user' }, async ({ meta, user }, deps) => recoveryCodes.remove(deps, meta, user));
