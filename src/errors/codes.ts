/**
 * Every error_code this server sends, as GoTrue names them (contract §3). A client branches on these strings,
 * so they never change once shipped.
 */
export const ErrorCodes = {
  /** Input failed validation (shape, type or value). */
  validationFailed: 'validation_failed',
  /** Body is not valid JSON, or is missing where one is required. */
  badJson: 'bad_json',
  /** Body larger than the 1 MiB limit. */
  requestEntityTooLarge: 'request_entity_too_large',
  /** Wrong email/phone or password, or an unsupported grant. */
  invalidCredentials: 'invalid_credentials',
  /** Email address has a bad format. */
  emailAddressInvalid: 'email_address_invalid',
  /** Email sign-ups/logins are turned off. */
  emailProviderDisabled: 'email_provider_disabled',
  /** Phone sign-ups/logins are turned off. */
  phoneProviderDisabled: 'phone_provider_disabled',
  /** Sign-ups are turned off (GOTRUE_DISABLE_SIGNUP). */
  signupDisabled: 'signup_disabled',
  /** Anonymous sign-ins are turned off. */
  anonymousProviderDisabled: 'anonymous_provider_disabled',
  /** The user signed up but has not confirmed the email. */
  emailNotConfirmed: 'email_not_confirmed',
  /** The user signed up but has not confirmed the phone. */
  phoneNotConfirmed: 'phone_not_confirmed',
  /** A confirmed user with that email/phone exists (only where GoTrue reveals it). */
  userAlreadyExists: 'user_already_exists',
  /** Email is taken by another user. */
  emailExists: 'email_exists',
  /** Phone is taken by another user. */
  phoneExists: 'phone_exists',
  /** Password fails the strength rules; body carries weak_password.reasons. */
  weakPassword: 'weak_password',
  /** New password equals the old one. */
  samePassword: 'same_password',
  /** The refresh token is unknown. */
  refreshTokenNotFound: 'refresh_token_not_found',
  /** The refresh token was used before, outside the reuse interval. */
  refreshTokenAlreadyUsed: 'refresh_token_already_used',
  /** The session has expired (timebox, inactivity, not_after). */
  sessionExpired: 'session_expired',
  /** The JWT's session row is gone (signed out). */
  sessionNotFound: 'session_not_found',
  /** The user is banned. */
  userBanned: 'user_banned',
  /** The JWT's sub names no user. */
  userNotFound: 'user_not_found',
  /** No MFA factor with that id belongs to the user. */
  mfaFactorNotFound: 'mfa_factor_not_found',
  /** Another factor of the user has that friendly name. */
  mfaFactorNameConflict: 'mfa_factor_name_conflict',
  /** No Bearer token was sent where one is required. */
  noAuthorization: 'no_authorization',
  /** The JWT is malformed, forged, of a wrong algorithm or expired. */
  badJwt: 'bad_jwt',
  /** The caller lacks the admin role or group. */
  notAdmin: 'not_admin',
  /** The feature is not available on this server. */
  featureDisabled: 'feature_disabled',
  /** A per-IP request rate limit was hit. */
  overRequestRateLimit: 'over_request_rate_limit',
  /** The request took longer than API_MAX_REQUEST_DURATION. */
  requestTimeout: 'request_timeout',
  /** Anything unexpected; details are logged under error_id, never sent. */
  unexpectedFailure: 'unexpected_failure',
  /** No route matches. */
  notFound: 'not_found',
  /** The HTTP method is not supported on this path. */
  methodNotAllowed: 'method_not_allowed',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
