import { base, metadata, str, type BuiltinProviderSpec } from './spec';

interface GitlabUser { id: number; email?: string; name?: string; username?: string; avatar_url?: string; confirmed_at?: string | null }
interface GitlabEmail { email: string; confirmed_at?: string | null }

/** GitLab (OAuth2, as GoTrue uses it); GOTRUE_EXTERNAL_GITLAB_URL points at a self-hosted instance. */
export const gitlab: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => {
    const b = base(url, 'https://gitlab.com');
    return { authorizationUrl: `${b}/oauth/authorize`, tokenUrl: `${b}/oauth/token`, api: `${b}/api/v4` };
  },
  scopes: ['read_user'],
  pkce: true,
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/user`)) as GitlabUser;
    const more = (await ctx.getJson(`${ep.api}/user/emails`)) as GitlabEmail[];
    const emails = [
      ...(u.email ? [{ email: u.email, verified: Boolean(u.confirmed_at), primary: true }] : []),
      ...more.filter((e) => e.email && e.email !== u.email).map((e) => ({ email: e.email, verified: Boolean(e.confirmed_at), primary: false })),
    ];
    const sub = String(u.id);
    return {
      sub,
      emails,
      metadata: metadata({ iss: ep.api, sub, name: str(u.name), email: u.email, email_verified: u.email ? Boolean(u.confirmed_at) : undefined, avatar_url: str(u.avatar_url), full_name: str(u.name), provider_id: sub, user_name: str(u.username), preferred_username: str(u.username) }),
    };
  },
};
