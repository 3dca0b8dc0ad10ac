import { base, metadata, str, type BuiltinProviderSpec } from './spec';

interface GithubUser { id: number; login?: string; name?: string; avatar_url?: string; email?: string }
interface GithubEmail { email: string; primary: boolean; verified: boolean }

/**
 * GitHub (OAuth2). With GOTRUE_EXTERNAL_GITHUB_URL (GitHub Enterprise, or a stand-in) the web flow is under that
 * host and the API under <url>/api/v3, as GoTrue does. Emails come from /user/emails with GitHub's verified flag.
 */
export const github: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const web = base(url, 'https://github.com');
    return { authorizationUrl: `${web}/login/oauth/authorize`, tokenUrl: `${web}/login/oauth/access_token`, api: url ? `${web}/api/v3` : 'https://api.github.com' };
  },
  scopes: ['user:email'],
  pkce: true,
  refreshTokens: true,
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/user`)) as GithubUser;
    const emails = ((await ctx.getJson(`${ep.api}/user/emails`)) as GithubEmail[]).filter((e) => e.email);
    const primary = emails.find((e) => e.primary);
    const sub = String(u.id);
    return {
      sub,
      emails: emails.map((e) => ({ email: e.email, verified: e.verified, primary: e.primary })),
      metadata: metadata({
        iss: ep.api,
        sub,
        name: str(u.name),
        preferred_username: str(u.login),
        email: primary?.email,
        email_verified: primary ? primary.verified : undefined,
        avatar_url: str(u.avatar_url),
        full_name: str(u.name),
        provider_id: sub,
        user_name: str(u.login),
      }),
    };
  },
};
