import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface TwitchUsers { data?: { id: string; login?: string; display_name?: string; email?: string; profile_image_url?: string }[] }

/** Twitch (OAuth2); Helix calls need the Client-Id header. Twitch emails are verified. Mapped from documentation. */
export const twitch: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://id.twitch.tv')}/oauth2/authorize`,
    tokenUrl: `${base(url, 'https://id.twitch.tv')}/oauth2/token`,
    api: url ? `${base(url, '')}/helix` : 'https://api.twitch.tv/helix',
  }),
  scopes: ['user:read:email'],
  async profile(ctx, ep, cfg) {
    const u = ((await ctx.getJson(`${ep.api}/users`, { 'Client-Id': cfg.clientIds[0] ?? '' })) as TwitchUsers).data?.[0];
    if (!u) throw new Error('Twitch answered without a user');
    const pic = str(u.profile_image_url);
    return {
      sub: u.id,
      emails: emailOf(u.email, true),
      metadata: metadata({ iss: ep.api, sub: u.id, name: str(u.display_name), email: u.email, email_verified: u.email ? true : undefined, picture: pic, avatar_url: pic, full_name: str(u.display_name), user_name: str(u.login), provider_id: u.id }),
    };
  },
};
