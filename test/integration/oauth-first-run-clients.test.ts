import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { firstRunClientsBanner } from '../../src/cli/first-run-clients';
import { createExampleClients } from '../../src/domain/oauth-clients';
import { useTestApp } from '../helpers/test-app';
import { adminHeaders } from '../helpers/admin';
import { ISSUER, oauthEnv, relyingParty } from '../helpers/oauth-server';
import { onPostgres } from '../helpers/test-db';

/** First run of the OAuth server (issue 15): two example clients, printed once, that work as printed. */

const t = useTestApp({ listen: true, env: oauthEnv({ GOTRUE_OAUTH_SERVER_API_KEY: 'first-run-api-key-0123456789' }) });
const fresh = useTestApp({ env: oauthEnv() });
const run = promisify(execFile);

describe('first run with the OAuth server on', () => {
  // serve calls this only on the embedded database (PGlite); on Postgres it must do nothing.
  it.skipIf(onPostgres)('the embedded default creates a confidential and a public client and prints a curl that works', async () => {
    const banner = await firstRunClientsBanner(t.deps.config, t.db);
    expect(banner).toBeDefined();
    const text = banner!;
    const [, confidentialId, secret] = /confidential:\s+client_id (\S+)\s+client_secret (\S+)/.exec(text)!;
    const [, publicId] = /public \(PKCE\):\s+client_id (\S+)/.exec(text)!;
    expect(text).toContain('X-API-Key is set');
    expect(text).toContain(`client.ClientSecretBasic('${secret}')`);
    expect(text).toContain('http://localhost:3000/oauth/consent');

    const pub = await request(t.app).get(`/admin/oauth/clients/${publicId}`).set(adminHeaders(t.deps));
    expect(pub.body).toMatchObject({ client_type: 'public', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:3000/callback'] });
    expect(pub.body).not.toHaveProperty('client_secret');

    // The printed curl, run as printed but against this server.
    const curl = /^\s*(curl .*)$/m.exec(text)![1]!.replace(ISSUER, t.url);
    const args = curl.split(' ').slice(1).map((a) => a.replace(/^'(.*)'$/, '$1'));
    const { stdout } = await run('curl', args);
    expect(JSON.parse(stdout)).toMatchObject({ token_type: 'bearer', access_token: expect.any(String) });

    // The printed openid-client call (its fetch pointed at this server).
    const config = await relyingParty(t.url, confidentialId!, oidc.ClientSecretBasic(secret!));
    expect((await oidc.clientCredentialsGrant(config)).access_token).toBeTruthy();

    // Once: a restart prints nothing and creates nothing more.
    expect(await firstRunClientsBanner(t.deps.config, t.db)).toBeUndefined();
    expect((await request(t.app).get('/admin/oauth/clients').set(adminHeaders(t.deps))).body.clients).toHaveLength(2);
  });

  it.runIf(onPostgres)('on Postgres serve creates no client', async () => {
    expect(await firstRunClientsBanner(t.deps.config, t.db)).toBeUndefined();
    expect((await request(t.app).get('/admin/oauth/clients').set(adminHeaders(t.deps))).body.clients).toEqual([]);
  });

  it('says when the API key is unset, and nothing when the OAuth server is off', async () => {
    const off = { ...fresh.deps.config, oauthServer: { ...fresh.deps.config.oauthServer, enabled: false } };
    expect(await firstRunClientsBanner(off, fresh.db)).toBeUndefined();
    if (onPostgres) {
      // The creation itself, on Postgres too (serve asks for it only on the embedded database).
      const made = await createExampleClients(fresh.deps, 'http://localhost:3000/callback');
      expect(made).toMatchObject({ confidential: { client_type: 'confidential' }, public: { client_type: 'public', client_secret_hash: null } });
      expect(made!.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } else {
      expect(await firstRunClientsBanner(fresh.deps.config, fresh.db)).toMatch(/X-API-Key is not set \(GOTRUE_OAUTH_SERVER_API_KEY\)/);
    }
  });

  it('deleting the examples does not bring them back: only a database that never had a client gets them', async () => {
    const list = await request(fresh.app).get('/admin/oauth/clients').set(adminHeaders(fresh.deps));
    expect(list.body.clients).toHaveLength(2);
    for (const c of list.body.clients as { client_id: string }[]) await request(fresh.app).delete(`/admin/oauth/clients/${c.client_id}`).set(adminHeaders(fresh.deps)).expect(204);
    expect(await createExampleClients(fresh.deps, 'http://localhost:3000/callback')).toBeUndefined();
    expect((await request(fresh.app).get('/admin/oauth/clients').set(adminHeaders(fresh.deps))).body.clients).toEqual([]);
  });
});
