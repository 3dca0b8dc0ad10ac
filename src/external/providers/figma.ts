import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface FigmaUser { id: string; email?: string; handle?: string; img_url?: string }

/** Figma (OAuth2). Figma only has verified emails. Mapped from Figma's documentation. */
export const figma: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://www.figma.com')}/oauth`,
    tokenUrl: `${base(url, 'https://api.figma.com')}/v1/oauth/token`,
    api: `${base(url, 'https://api.figma.com')}/v1`,
  }),
  scopes: ['current_user:read'],
  clientAuth: 'basic',
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/me`)) as FigmaUser;
    return {
      sub: u.id,
      emails: emailOf(u.email, true),
      metadata: metadata({ iss: ep.api, sub: u.id, name: str(u.handle), email: u.email, email_verified: u.email ? true : undefined, avatar_url: str(u.img_url), picture: str(u.img_url), full_name: str(u.handle), provider_id: u.id }),
    };
  },
};
