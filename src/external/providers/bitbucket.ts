import { base, metadata, str, type BuiltinProviderSpec } from './spec';

interface BitbucketUser { uuid: string; username?: string; display_name?: string; links?: { avatar?: { href?: string } } }
interface BitbucketEmails { values?: { email: string; is_primary: boolean; is_confirmed: boolean }[] }

/** Bitbucket (OAuth2). Mapped from Bitbucket's API documentation. */
export const bitbucket: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://bitbucket.org')}/site/oauth2/authorize`,
    tokenUrl: `${base(url, 'https://bitbucket.org')}/site/oauth2/access_token`,
    api: url ? `${base(url, '')}/2.0` : 'https://api.bitbucket.org/2.0',
  }),
  scopes: ['account', 'email'],
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/user`)) as BitbucketUser;
    const list = ((await ctx.getJson(`${ep.api}/user/emails`)) as BitbucketEmails).values ?? [];
    const emails = list.map((e) => ({ email: e.email, verified: e.is_confirmed, primary: e.is_primary }));
    const primary = emails.find((e) => e.primary);
    return {
      sub: u.uuid,
      emails,
      metadata: metadata({ iss: ep.api, sub: u.uuid, name: str(u.display_name), email: primary?.email, email_verified: primary?.verified, avatar_url: str(u.links?.avatar?.href), full_name: str(u.display_name), provider_id: u.uuid, user_name: str(u.username) }),
    };
  },
};
