import { BUILTIN_PROVIDERS } from '../config/providers';
import { endpoint } from '../http/endpoint';

/**
 * Providers /settings lists (contract §1.1). Those this server implements report whether they are enabled;
 * GoTrue's legacy ones (fly, linkedin, slack, snapchat) are always false here. `x` is not listed, as in GoTrue.
 */
const OAUTH_PROVIDERS = [
  'apple', 'azure', 'bitbucket', 'discord', 'facebook', 'snapchat', 'figma', 'fly', 'github', 'gitlab', 'google',
  'keycloak', 'kakao', 'linkedin', 'linkedin_oidc', 'notion', 'spotify', 'slack', 'slack_oidc', 'workos', 'twitch',
  'twitter', 'zoom',
] as const;

/**
 * GET /settings. `mfa` is ours (GoTrue's /settings says nothing of MFA): which factor types a client may offer,
 * so an app can hide an enrol button the server would refuse. Clients that do not know the field ignore it.
 */
export const settings = endpoint({ auth: 'none' }, (_ctx, { config }) => {
  const external: Record<string, boolean> = { anonymous_users: config.external.anonymousUsers.enabled };
  for (const p of OAUTH_PROVIDERS) {
    external[p] = (BUILTIN_PROVIDERS as readonly string[]).includes(p) ? config.external.providers[p as (typeof BUILTIN_PROVIDERS)[number]].enabled : false;
  }
  external.email = config.external.email.enabled;
  external.phone = config.external.phone.enabled;
  return {
    external,
    disable_signup: config.disableSignup,
    mailer_autoconfirm: config.mailer.autoconfirm,
    phone_autoconfirm: config.sms.autoconfirm,
    sms_provider: config.sms.provider,
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
    mfa: {
      max_enrolled_factors: config.mfa.maxEnrolledFactors,
      totp: { enroll_enabled: config.mfa.totp.enrollEnabled, verify_enabled: config.mfa.totp.verifyEnabled },
      phone: { enroll_enabled: config.mfa.phone.enrollEnabled, verify_enabled: config.mfa.phone.verifyEnabled },
      recovery_codes: { enroll_enabled: config.mfa.recoveryCodes.enrollEnabled, verify_enabled: config.mfa.recoveryCodes.verifyEnabled },
    },
  };
});
