import { base, oidcProfile, type BuiltinProviderSpec } from './spec';

/** Slack "Sign in with Slack" (OpenID Connect). Mapped from Slack's documentation. */
export const slackOidc: BuiltinProviderSpec = {
  protocol: 'oidc',
  endpoints: (url) => ({ issuer: base(url, 'https://slack.com'), api: base(url, 'https://slack.com') }),
  scopes: ['profile', 'email'],
  clientAuth: 'post',
  pkce: false,
  profile: (ctx) => oidcProfile(ctx, { custom_claims: ctx.claims?.['https://slack.com/team_id'] ? { team_id: ctx.claims['https://slack.com/team_id'] } : undefined }),
};
