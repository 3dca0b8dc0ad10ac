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
  /** The request line and headers exceed the HTTP server's 16 KiB limit (this server's code; Go answers plain text). */
  requestHeadersTooLarge: 'request_headers_too_large',
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
  /** No MFA factor with that id belongs to the user. */
  mfaFactorNotFound: 'mfa_factor_not_found',
  /** Another factor of the user has that friendly name. */
  mfaFactorNameConflict: 'mfa_factor_name_conflict',
  /** The user holds GOTRUE_MFA_MAX_ENROLLED_FACTORS factors, or GOTRUE_MFA_MAX_VERIFIED_FACTORS verified ones. */
  tooManyEnrolledMfaFactors: 'too_many_enrolled_mfa_factors',
  /** The challenge was already verified, or is verified from another IP address than the one that created it. */
  mfaIpAddressMismatch: 'mfa_ip_address_mismatch',
  /** The challenge is older than GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION; it is deleted. */
  mfaChallengeExpired: 'mfa_challenge_expired',
  /** The TOTP or SMS code is wrong, expired, or (TOTP) was already accepted once. */
  mfaVerificationFailed: 'mfa_verification_failed',
  /** The session's AAL is too low for the operation (aal2 needed). */
  insufficientAal: 'insufficient_aal',
  /** GOTRUE_MFA_PHONE_ENROLL_ENABLED is off. */
  mfaPhoneEnrollNotEnabled: 'mfa_phone_enroll_not_enabled',
  /** GOTRUE_MFA_PHONE_VERIFY_ENABLED is off. */
  mfaPhoneVerifyNotEnabled: 'mfa_phone_verify_not_enabled',
  /** GOTRUE_MFA_TOTP_ENROLL_ENABLED is off. */
  mfaTotpEnrollNotEnabled: 'mfa_totp_enroll_not_enabled',
  /** GOTRUE_MFA_TOTP_VERIFY_ENABLED is off. */
  mfaTotpVerifyNotEnabled: 'mfa_totp_verify_not_enabled',
  /** WebAuthn factors are not offered by this server (GoTrue's default: disabled). */
  mfaWebauthnEnrollNotEnabled: 'mfa_webauthn_enroll_not_enabled',
  /** WebAuthn factors are not offered by this server (GoTrue's default: disabled). */
  mfaWebauthnVerifyNotEnabled: 'mfa_webauthn_verify_not_enabled',
  /** The user already has a verified phone factor for that number. */
  mfaVerifiedFactorExists: 'mfa_verified_factor_exists',
  // MFA recovery codes (auth-js's experimental mfa.recoveryCodes).
  /** GOTRUE_MFA_RECOVERY_CODES_ENROLL_ENABLED is off. */
  mfaRecoveryCodesEnrollNotEnabled: 'mfa_recovery_codes_enroll_not_enabled',
  /** GOTRUE_MFA_RECOVERY_CODES_VERIFY_ENABLED is off. */
  mfaRecoveryCodesVerifyNotEnabled: 'mfa_recovery_codes_verify_not_enabled',
  /** Too many wrong recovery codes in a row: verification is locked for GOTRUE_MFA_RECOVERY_CODES_LOCKOUT_DURATION. */
  mfaRecoveryCodesLocked: 'mfa_recovery_codes_locked',
  /** Recovery codes need another verified factor: they can never be a user's only one. */
  mfaRecoveryCodesSoleFactor: 'mfa_recovery_codes_sole_factor',
  /** No Bearer token was sent where one is required. */
  noAuthorization: 'no_authorization',
  /** The JWT is malformed, forged, of a wrong algorithm or expired. */
  badJwt: 'bad_jwt',
  /** The caller lacks the admin role or group. */
  notAdmin: 'not_admin',
  /** The feature is not available on this server. */
  featureDisabled: 'feature_disabled',
  /** The SMS vendor refused or failed to send (or check) a code; the vendor's reply is logged, never sent. */
  smsSendFailed: 'sms_send_failed',
  /** The emailed or texted code / link is wrong, used or expired. */
  otpExpired: 'otp_expired',
  /** POST /otp with create_user:false for an address no user has. */
  otpDisabled: 'otp_disabled',
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
  /** The database cannot be reached or dropped the connection; retry after Retry-After seconds (this server's code). */
  databaseUnavailable: 'database_unavailable',
  /** Anything unexpected; details are logged under error_id, never sent. */
  unexpectedFailure: 'unexpected_failure',
  /** OAuth callback: the `state` is missing, malformed, unknown or expired. */
  badOauthState: 'bad_oauth_state',
  /** OAuth callback: the provider's answer is unusable (no code, no email, a bad profile). */
  badOauthCallback: 'bad_oauth_callback',
  /** The provider is known but not enabled. */
  providerDisabled: 'provider_disabled',
  /** A new account's provider email is unverified: it must be confirmed first. */
  providerEmailNeedsVerification: 'provider_email_needs_verification',
  /** Manual linking: that provider identity is already linked (to this user or another). */
  identityAlreadyExists: 'identity_already_exists',
  /** Unlinking: the user has no identity with that id. */
  identityNotFound: 'identity_not_found',
  /** Unlinking: the user's last identity cannot go. */
  singleIdentityNotDeletable: 'single_identity_not_deletable',
  /** Unlinking: the email the user would fall back to belongs to another user. */
  emailConflictIdentityNotDeletable: 'email_conflict_identity_not_deletable',
  /** /user/identities/* while GOTRUE_SECURITY_MANUAL_LINKING_ENABLED is off. */
  manualLinkingDisabled: 'manual_linking_disabled',
  /** The JWT's audience does not match the request's. */
  unexpectedAudience: 'unexpected_audience',
  /** Admin: no custom provider with that id or identifier. */
  customProviderNotFound: 'custom_provider_not_found',
  /** Admin: the custom provider limit is reached. */
  overCustomProviderQuota: 'over_custom_provider_quota',
  /** The resource already exists (a custom provider identifier). */
  conflict: 'conflict',
  /** The provider could not be reached or answered 5xx (this server's code). */
  providerUnavailable: 'provider_unavailable',
  /** Vault: no stored provider token for that user and provider (this server's code). */
  providerTokenNotFound: 'provider_token_not_found',
  /** Vault: the provider revoked the grant (invalid_grant); the user must sign in with it again (this server's code). */
  providerGrantRevoked: 'provider_grant_revoked',
  /** Vault: the access token expired and there is no refresh token to renew it (this server's code). */
  providerTokenExpired: 'provider_token_expired',
  /** No route matches. */
  notFound: 'not_found',
  /** The HTTP method is not supported on this path. */
  methodNotAllowed: 'method_not_allowed',
  // Abuse protection (CAPTCHA, current-password rule): GoTrue's codes.
  /** CAPTCHA token missing or refused by the provider. */
  captchaFailed: 'captcha_failed',
  /** PUT /user with a new password but no current_password (GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD). */
  currentPasswordRequired: 'current_password_required',
  /** PUT /user: current_password is wrong (GoTrue's constant is CurrentPasswordMismatch, its value this). */
  currentPasswordInvalid: 'current_password_invalid',
  // Auth hooks (GoTrue's errorcode.go).
  /** A hook did not answer within its time limit. */
  hookTimeout: 'hook_timeout',
  /** A hook could not be reached after the retries. */
  hookTimeoutAfterRetry: 'hook_timeout_after_retry',
  /** A hook's answer is larger than 200 KB. */
  hookPayloadOverSizeLimit: 'hook_payload_over_size_limit',
  /** A hook answered 200/202 without an application/json body. */
  hookPayloadInvalidContentType: 'hook_payload_invalid_content_type',
  /** The MFA verification attempt hook rejected the attempt. */
  mfaVerificationRejected: 'mfa_verification_rejected',
  /** A hook rejected the request with a non-500 http_code and no code of its own (GoTrue's ErrorCodeUnknown). */
  unknown: 'unknown',
  // OAuth 2.1 / OpenID provider (issue 12): GoTrue's codes, then this server's for the RFC 6749 answers.
  /** OAuth server: no (live) client with that client_id. */
  oauthClientNotFound: 'oauth_client_not_found',
  /** OAuth server: no pending authorization with that id for this user (unknown, expired, or another user's). */
  oauthAuthorizationNotFound: 'oauth_authorization_not_found',
  /** OAuth server: the user has no live grant for that client. */
  oauthConsentNotFound: 'oauth_consent_not_found',
  /** OAuth server: POST /oauth/clients/register while GOTRUE_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION is off. */
  oauthDynamicClientRegistrationDisabled: 'oauth_dynamic_client_registration_disabled',
  /** OAuth server: the OAuth server is off (GOTRUE_OAUTH_SERVER_ENABLED). */
  oauthServerDisabled: 'oauth_server_disabled',
  /** OAuth server protocol error (its RFC 6749 `error` is in the body): the request is malformed or not allowed. */
  oauthInvalidRequest: 'oauth_invalid_request',
  /** OAuth server protocol error: client authentication failed (401 invalid_client). */
  oauthInvalidClient: 'oauth_invalid_client',
  /** OAuth server protocol error: the code or refresh token is invalid, expired, used or another client's. */
  oauthInvalidGrant: 'oauth_invalid_grant',
  /** OAuth server: an OAuth client's access token was used to change the user's account (this server's code). */
  oauthClientTokenNotAllowed: 'oauth_client_token_not_allowed',
  // Approve by API (issue 15).
  /** OAuth server: X-API-Key is not GOTRUE_OAUTH_SERVER_API_KEY (or that setting is unset). */
  badApiKey: 'bad_api_key',
  // Issue 15: MFA per OAuth client, RP-initiated logout (this server's codes).
  /** OAuth server: the client requires MFA and the user has no verified factor: enrol one, then retry (403). */
  mfaEnrollmentRequired: 'mfa_enrollment_required',
  // Issue 15, item 4: resource servers with custom scopes (this server's codes).
  /** OAuth server: no resource server with that id (GET|PUT|DELETE /admin/oauth/resources/{id}). */
  oauthResourceNotFound: 'oauth_resource_not_found',
  /** OAuth server: an access token issued for a resource server was presented to a first-party endpoint (403). */
  oauthResourceTokenNotAllowed: 'oauth_resource_token_not_allowed',
  /** OAuth server: /oauth/logout's id_token_hint is not an ID token this server issued (bad signature, issuer, shape). */
  oauthInvalidIdTokenHint: 'oauth_invalid_id_token_hint',
  // Hosted pages (issue 15, this server's code).
  /** OAuth hosted pages: a form POST whose CSRF token does not match the page cookie's (or no cookie came): 403. */
  oauthPageCsrfFailed: 'oauth_page_csrf_failed',
  // Issue 15, MCP (this server's code).
  /** OAuth server: a Client ID Metadata Document could not be fetched, or its content breaks the rules (400 at /oauth/authorize). */
  oauthClientMetadataInvalid: 'oauth_client_metadata_invalid',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
