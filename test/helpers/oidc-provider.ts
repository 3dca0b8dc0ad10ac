import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata } from 'oidc-provider';

export interface OidcAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface LocalOidcProvider {
  issuer: string;
  provider: Provider;
  accounts: Record<string, OidcAccount>;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (oidc-provider) on a loopback port: dev interactions (any login, the login is the
 * account id), claims from `accounts`, refresh tokens for clients allowed the grant.
 */
export async function startOidcProvider(clients: ClientMetadata[], accounts: Record<string, OidcAccount>): Promise<LocalOidcProvider> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients,
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, ...(accounts[id] ?? {}) }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['local-oidc-test-cookie-key'] },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: () => false },
    // Put the scopes' claims (email, name) in id_tokens too, as Google's and Keycloak's id_tokens carry them.
    conformIdTokenClaims: false,
  });
  // Silence the provider's development-mode warnings in test output.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());
  return {
    issuer,
    provider,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
