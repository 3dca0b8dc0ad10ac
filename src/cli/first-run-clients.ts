import type { Config } from '../config';
import { systemClock, systemRandom } from '../crypto/clock';
import type { DatabaseHandle } from '../db/database';
import { createExampleClients } from '../domain/oauth-clients';
import { oauthIssuer } from '../domain/oauth-server';

/**
 * First run of the OAuth server (issue 15): on the embedded default with GOTRUE_OAUTH_SERVER_ENABLED and no client
 * ever registered, serve creates two example clients and prints them once — as it prints the anon key — with a
 * curl and an openid-client snippet that work as printed. Returns the banner, or undefined when there is nothing
 * to say (Postgres, the OAuth server off, clients already there).
 */
export async function firstRunClientsBanner(config: Config, database: DatabaseHandle): Promise<string | undefined> {
  if (database.kind !== 'pglite' || !config.oauthServer.enabled) return undefined;
  const site = config.siteUrl.replace(/\/+$/, '');
  const made = await createExampleClients({ db: database.db, clock: systemClock, random: systemRandom }, `${site}/callback`);
  if (!made) return undefined;
  const api = config.api.externalUrl.replace(/\/+$/, '');
  const issuer = oauthIssuer(config);
  const { confidential: c, secret, public: p } = made;
  const insecure = issuer.startsWith('http:') ? ', { execute: [client.allowInsecureRequests] }' : '';
  const path = config.oauthServer.authorizationPath;
  return [
    '',
    '  gotrue: OAuth server, first run. Two example OAuth clients were created (GET /admin/oauth/clients lists them):',
    '',
    `  confidential:   client_id ${c.id}`,
    `                  client_secret ${secret}   (shown once; POST /admin/oauth/clients/${c.id}/regenerate_secret makes a new one)`,
    `  public (PKCE):  client_id ${p.id}`,
    `  redirect URI:   ${site}/callback (both; change it with PUT /admin/oauth/clients/{id})`,
    `  consent page:   ${path ? `${site}${path.startsWith('/') ? path : `/${path}`}` : 'GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH is not set: set it to your consent page'}`,
    `  approve by API: X-API-Key ${config.oauthServer.apiKey ? 'is set (GOTRUE_OAUTH_SERVER_API_KEY)' : 'is not set (GOTRUE_OAUTH_SERVER_API_KEY); the service_role key works'}`,
    '',
    `  curl -s -u '${c.id}:${secret}' -d grant_type=client_credentials ${api}/oauth/token`,
    '',
    `  openid-client:  const config = await client.discovery(new URL('${issuer}'), '${c.id}', undefined, client.ClientSecretBasic('${secret}')${insecure})`,
    '',
  ].join('\n');
}
