import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface KakaoUser {
  id: number;
  kakao_account?: { email?: string; is_email_valid?: boolean; is_email_verified?: boolean; profile?: { nickname?: string; profile_image_url?: string } };
}

/** Kakao (OAuth2). Mapped from Kakao's documentation. */
export const kakao: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://kauth.kakao.com')}/oauth/authorize`,
    tokenUrl: `${base(url, 'https://kauth.kakao.com')}/oauth/token`,
    api: base(url, 'https://kapi.kakao.com'),
  }),
  scopes: ['account_email', 'profile_image', 'profile_nickname'],
  async profile(ctx, ep) {
    const u = (await ctx.getJson(`${ep.api}/v2/user/me`)) as KakaoUser;
    const a = u.kakao_account ?? {};
    const verified = Boolean(a.is_email_valid && a.is_email_verified);
    const sub = String(u.id);
    const name = str(a.profile?.nickname);
    const pic = str(a.profile?.profile_image_url);
    return {
      sub,
      emails: emailOf(a.email, verified),
      metadata: metadata({ iss: ep.api, sub, name, email: a.email, email_verified: a.email ? verified : undefined, picture: pic, avatar_url: pic, full_name: name, user_name: name, provider_id: sub }),
    };
  },
};
