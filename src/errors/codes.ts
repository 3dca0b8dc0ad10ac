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
  /** PKCE: no flow matches the auth code (unknown, already redeemed, or removed). */
  flowStateNotFound: 'flow_state_not_found',
  /** PKCE / OAuth: the flow is older than its expiry. */
  flowStateExpired: 'flow_state_expired',
  /** PKCE: the code_verifier does not answer the stored code_challenge, or is malformed. */
  badCodeVerifier: 'bad_code_verifier',
  /** OAuth: the `state` was already used by an earlier callback. */
  flowStateAlreadyUsed: 'flow_state_already_used',
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
  /** No Bearer token was sent where one is required. */
  noAuthorization: 'no_authorization',
  /** The JWT is malformed, forged, of a wrong algorithm or expired. */
  badJwt: 'bad_jwt',
  /** The caller lacks the admin role or group. */
  notAdmin: 'not_admin',
  /** The feature is not available on this server. */
  featureDisabled: 'feature_disabled',
  /** The emailed or texted code / link is wrong, used or expired. */
  otpExpired: 'otp_expired',
  /** POST /otp with create_user:false for an address no user has. */
  otpDisabled: 'otp_disabled',
  /** The SMS could not be handed to the vendor (or no vendor is configured). */
  smsSendFailed: 'sms_send_failed',
  /** A password change in an old session needs the nonce from GET /reauthenticate. */
  reauthenticationNeeded: 'reauthentication_needed',
  /** The reauthentication nonce is wrong, used or expired. */
  reauthenticationNotValid: 'reauthentication_not_valid',
  /** The user asked for another mail of this kind too soon (GOTRUE_SMTP_MAX_FREQUENCY). */
  overEmailSendRateLimit: 'over_email_send_rate_limit',
  /** The user asked for another SMS of this kind too soon (GOTRUE_SMS_MAX_FREQUENCY). */
  overSmsSendRateLimit: 'over_sms_send_rate_limit',
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
