import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface SpotifyUser { id: string; display_name?: string; email?: string; images?: { url?: string }[] }

/** Spotify (OAuth2). Spotify does not say whether an email is verified; GoTrue treats it as verified. Mapped from documentation. */
export const spotify: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://accounts.spotify.com')}/authorize`,
    tokenUrl: `${base(url, 'https://accounts.spotify.com')}/api/token`,
    api: url ? `${base(url, '')}/v1` : 'https://api.spotify.com/v1',
  }),
  scopes: ['user-read-email'],
  pkce: true,
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/me`)) as SpotifyUser;
    const pic = str(u.images?.[0]?.url);
    return {
      sub: u.id,
      emails: emailOf(u.email, true),
      metadata: metadata({ iss: ep.api, sub: u.id, name: str(u.display_name), email: u.email, email_verified: u.email ? true : undefined, picture: pic, avatar_url: pic, full_name: str(u.display_name), provider_id: u.id }),
    };
  },
};
