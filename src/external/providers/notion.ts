import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface NotionMe { bot?: { owner?: { user?: { id?: string; name?: string; avatar_url?: string; person?: { email?: string } } } } }

/** Notion (OAuth2, Basic client auth, owner=user). Notion emails count as verified. Mapped from Notion's documentation. */
export const notion: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const b = base(url, 'https://api.notion.com');
    return { authorizationUrl: `${b}/v1/oauth/authorize`, tokenUrl: `${b}/v1/oauth/token`, api: `${b}/v1` };
  },
  scopes: [],
  clientAuth: 'basic',
  authorizationParams: { owner: 'user' },
  refreshTokens: false,
  async profile(ctx, ep) {
    const me = (await ctx.getJson(`${ep.api}/users/me`, { 'Notion-Version': '2021-08-16' })) as NotionMe;
    const u = me.bot?.owner?.user ?? {};
    const sub = str(u.id);
    if (!sub) throw new Error('Notion answered without a user');
    const email = str(u.person?.email);
    return {
      sub,
      emails: emailOf(email, true),
      metadata: metadata({ iss: ep.api, sub, name: str(u.name), email, email_verified: email ? true : undefined, avatar_url: str(u.avatar_url), picture: str(u.avatar_url), full_name: str(u.name), provider_id: sub }),
    };
  },
};
