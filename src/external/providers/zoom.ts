import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface ZoomUser { id: string; email?: string; first_name?: string; last_name?: string; pic_url?: string; verified?: number }

/** Zoom (OAuth2, Basic client auth). Mapped from Zoom's documentation. */
export const zoom: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://zoom.us')}/oauth/authorize`,
    tokenUrl: `${base(url, 'https://zoom.us')}/oauth/token`,
    api: url ? `${base(url, '')}/v2` : 'https://api.zoom.us/v2',
  }),
  scopes: [],
  clientAuth: 'basic',
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/users/me`)) as ZoomUser;
    const name = [u.first_name, u.last_name].filter(Boolean).join(' ') || undefined;
    const verified = u.verified === 1;
    return {
      sub: u.id,
      emails: emailOf(str(u.email), verified),
      metadata: metadata({ iss: ep.api, sub: u.id, name, email: str(u.email), email_verified: u.email ? verified : undefined, picture: str(u.pic_url), avatar_url: str(u.pic_url), full_name: name, provider_id: u.id }),
    };
  },
};
