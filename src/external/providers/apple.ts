import { base, oidcProfile, type BuiltinProviderSpec } from './spec';

/**
 * Sign in with Apple (OpenID Connect). The secret is the client-secret JWT Apple asks for. Apple answers by form
 * POST to /callback and sends the user's name only there, on the first login. Mapped from Apple's documentation.
 */
export const apple: BuiltinProviderSpec = {
  protocol: 'oidc',
  endpoints: (url) => ({ issuer: base(url, 'https://appleid.apple.com'), api: base(url, 'https://appleid.apple.com') }),
  scopes: ['name', 'email'],
  clientAuth: 'post',
  authorizationParams: { response_mode: 'form_post' },
  async profile(ctx) {
    let name: string | undefined;
    try {
      const u = JSON.parse(ctx.callbackParams.get('user') ?? '{}') as { name?: { firstName?: string; lastName?: string } };
      name = [u.name?.firstName, u.name?.lastName].filter(Boolean).join(' ') || undefined;
    } catch {
      name = undefined;
    }
    return oidcProfile(ctx, { name, full_name: name });
  },
  idToken: 'discovery',
};
