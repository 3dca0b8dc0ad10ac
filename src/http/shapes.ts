/** The JSON shapes of GoTrue's User, Identity, Factor and token responses, shared by every handler (api/, features/). */
import type { UserWithRelations } from '../domain/user-records';
import type { Weakness } from '../domain/password-policy';
import type { IssuedTokens } from '../domain/sessions';

import { userJson } from '../domain/user-json';

export { factorJson, identityJson, userJson } from '../domain/user-json';

/** The token response of contract §2. */
export function tokenResponseJson(tokens: IssuedTokens, user: UserWithRelations, weakPassword?: Weakness) {
  return {
    access_token: tokens.accessToken,
    token_type: 'bearer',
    expires_in: tokens.expiresIn,
    expires_at: tokens.expiresAt,
    refresh_token: tokens.refreshToken,
    user: userJson(user),
    ...(weakPassword ? { weak_password: { message: weakPassword.message, reasons: weakPassword.reasons } } : {}),
  };
}
