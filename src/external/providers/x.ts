import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface XUser { data?: { id: string; name?: string; username?: string; profile_image_url?: string; confirmed_email?: string } }

/**
 * X (formerly Twitter), OAuth 2.0 with PKCE and Basic client auth. Serves both `x` and `twitter`: GoTrue's
 * `twitter` still speaks OAuth 1.0a, which this server does not; configure `twitter` with OAuth 2.0 client
 * credentials. Mapped from X's documentation.
 */
export const x: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://x.com')}/i/oauth2/authorize`,
    tokenUrl: `${base(url, 'https://api.x.com')}/2/oauth2/token`,
    api: `${base(url, 'https://api.x.com')}/2`,
  }),
  scopes: ['users.read', 'tweet.read', 'users.email', 'offline.access'],
  clientAuth: 'basic',
  pkce: true,
  async profile(ctx, ep) {
    const u = ((await ctx.getJson(`${ep.api}/users/me?user.fields=profile_image_url,confirmed_email`)) as XUser).data;
    if (!u) throw new Error('X answered without a user');
    const email = str(u.confirmed_email);
    const pic = str(u.profile_image_url);
    return {
      sub: u.id,
      emails: emailOf(email, true),
      metadata: metadata({ iss: ep.api, sub: u.id, name: str(u.name), preferred_username: str(u.username), email, email_verified: email ? true : undefined, picture: pic, avatar_url: pic, full_name: str(u.name), user_name: str(u.username), provider_id: u.id }),
    };
  },
};
