import { createHmac } from 'node:crypto';
import { base, emailOf, metadata, str, type BuiltinProviderSpec } from './spec';

interface FacebookUser { id: string; email?: string; name?: string; first_name?: string; last_name?: string; picture?: { data?: { url?: string } } }

/**
 * Facebook (OAuth2; Limited Login id_tokens for grant_type=id_token, whose nonce is the raw value). Graph calls
 * carry appsecret_proof. Facebook only returns confirmed emails. Mapped from Facebook's documentation.
 */
export const facebook: BuiltinProviderSpec = {
  protocol: 'oauth2',
  endpoints: (url) => ({
    authorizationUrl: `${base(url, 'https://www.facebook.com')}/dialog/oauth`,
    tokenUrl: `${base(url, 'https://graph.facebook.com')}/oauth/access_token`,
    api: base(url, 'https://graph.facebook.com'),
    issuer: 'https://www.facebook.com',
    jwksUri: `${base(url, 'https://www.facebook.com')}/.well-known/oauth/openid/jwks/`,
  }),
  scopes: ['email'],
  async profile(ctx, ep, cfg) {
    const proof = createHmac('sha256', cfg.secret).update(ctx.tokens.accessToken).digest('hex');
    const u = (await ctx.getJson(`${ep.api}/me?fields=email,first_name,last_name,name,picture&appsecret_proof=${proof}`)) as FacebookUser;
    const pic = str(u.picture?.data?.url);
    return {
      sub: u.id,
      emails: emailOf(u.email, true),
      metadata: metadata({ iss: ep.api, sub: u.id, name: str(u.name), given_name: str(u.first_name), family_name: str(u.last_name), email: u.email, email_verified: u.email ? true : undefined, picture: pic, avatar_url: pic, full_name: str(u.name), provider_id: u.id }),
    };
  },
  idToken: (ep) => ({ issuer: ep.issuer!, jwksUri: ep.jwksUri!, nonce: 'raw' }),
};
