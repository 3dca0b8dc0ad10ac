import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface WorkosProfile { id: string; email?: string; first_name?: string; last_name?: string; connection_id?: string; organization_id?: string; raw_attributes?: Record<string, unknown> }

/**
 * WorkOS SSO (OAuth2): the profile arrives inside the token response; `connection`, `organization` or `provider`
 * pass through from /authorize's query. WorkOS emails are verified by the identity provider. Mapped from documentation.
 */
export const workos: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const b = base(url, 'https://api.workos.com');
    return { authorizationUrl: `${b}/sso/authorize`, tokenUrl: `${b}/sso/token`, api: b };
  },
  scopes: [],
  refreshTokens: false,
  async profile(ctx, ep) {
    const p = ctx.tokens.raw.profile as WorkosProfile | undefined;
    if (!p?.id) throw new Error('WorkOS answered without a profile');
    const name = [p.first_name, p.last_name].filter(Boolean).join(' ') || undefined;
    return {
      sub: p.id,
      emails: emailOf(str(p.email), true),
      metadata: metadata({ iss: ep.api, sub: p.id, name, email: str(p.email), email_verified: p.email ? true : undefined, full_name: name, provider_id: p.id, custom_claims: { connection_id: p.connection_id, organization_id: p.organization_id } }),
    };
  },
};
