import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface DiscordUser { id: string; username?: string; global_name?: string; avatar?: string | null; email?: string; verified?: boolean }

/** Discord (OAuth2). Mapped from Discord's API documentation. */
export const discord: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const b = base(url, 'https://discord.com');
    return { authorizationUrl: `${b}/api/oauth2/authorize`, tokenUrl: `${b}/api/oauth2/token`, api: `${b}/api` };
  },
  scopes: ['email', 'identify'],
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/users/@me`)) as DiscordUser;
    const avatar = u.avatar ? `https://cdn.discordapp.com/avatars/${u.id}/${u.avatar}.${u.avatar.startsWith('a_') ? 'gif' : 'png'}` : undefined;
    const name = str(u.global_name) ?? str(u.username);
    return {
      sub: u.id,
      emails: emailOf(u.email, Boolean(u.verified)),
      metadata: metadata({ iss: ep.api, sub: u.id, name, email: u.email, email_verified: u.email ? Boolean(u.verified) : undefined, picture: avatar, avatar_url: avatar, full_name: name, provider_id: u.id, custom_claims: { global_name: u.global_name } }),
    };
  },
};
