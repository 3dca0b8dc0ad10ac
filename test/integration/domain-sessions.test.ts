import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/database';
import { updateUser } from '../../src/db/repositories/users';
import type { Deps } from '../../src/deps';
import type { RequestMeta } from '../../src/domain/request-meta';
import * as sessions from '../../src/domain/sessions';
import { createUser } from '../../src/domain/users';
import { registerClient } from '../../src/domain/oauth-clients';
import { refreshGrant } from '../../src/services/refresh-grant';
import { claimsOf } from '../helpers/flows';
import { openTestDatabase } from '../helpers/test-db';
import { testDeps, uniqueEmail } from '../helpers/test-server';

/** The session kernel called directly on the test database, at a fixed time. */

const NOW = new Date('2026-03-01T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const meta: RequestMeta = { ip: '203.0.113.7', userAgent: 'domain-test', aud: 'authenticated' };

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let deps: Deps;

beforeAll(async () => {
  db = await openTestDatabase();
  deps = testDeps(db, { GOTRUE_JWT_KEY_ID: 'test-kid', GOTRUE_JWT_ISSUER: 'https://auth.example.test/auth/v1' }, { clock: { now: () => NOW } });
});
afterAll(() => db.close());

const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;

async function newUser(trx: Executor) {
  const { user } = await createUser(trx, deps, meta, { channel: { kind: 'email', email: uniqueEmail('kernel'), confirmed: true }, encryptedPassword: 'x' });
  return user;
}

/** Counts the statements run through an executor. */
function counted(trx: Executor): { ex: Executor; count: () => number } {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { ex: trx.withPlugin(plugin), count: () => n };
}

describe('sessions.issue', () => {
  it('starts the session in one statement and reads back the user as the transaction left it', async () => {
    let statements = 0;
    const s = await db.db.transaction().execute(async (trx) => {
      const user = await newUser(trx);
      await updateUser(trx, user.id, { last_sign_in_at: NOW });
      const c = counted(trx);
      const started = await sessions.issue(c.ex, deps, { user, method: 'password', meta });
      statements = c.count();
      return started;
    });
    expect(statements).toBe(1);
    expect(s.user.last_sign_in_at?.toISOString()).toBe(NOW.toISOString());
    expect(s.user.identities.map((i) => i.provider)).toEqual(['email']);
    expect(s.session).toEqual({ id: expect.any(String), aal: 'aal1', oauthClientId: null });
    expect(s.amr).toEqual([{ method: 'password', timestamp: NOW_S }]);

    const row = await db.db.selectFrom('sessions').selectAll().where('id', '=', s.session.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: s.user.id, aal: 'aal1', user_agent: 'domain-test', ip: '203.0.113.7', oauth_client_id: null });
    expect(row.created_at?.toISOString()).toBe(NOW.toISOString());
    const tokens = await db.db.selectFrom('refresh_tokens').selectAll().where('session_id', '=', s.session.id).execute();
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ token: deps.refreshTokens.selectorOf(s.refreshToken), user_id: s.user.id, parent: null, revoked: false });
    const amr = await db.db.selectFrom('mfa_amr_claims').select(['authentication_method', 'updated_at']).where('session_id', '=', s.session.id).execute();
    expect(amr.map((a) => [a.authentication_method, a.updated_at.toISOString()])).toEqual([['password', NOW.toISOString()]]);
  });

  it('records the AAL it is given and the methods a session carries over, newest first', async () => {
    const earlier = { method: 'otp', timestamp: NOW_S - 60 };
    const s = await db.db.transaction().execute(async (trx) =>
      sessions.issue(trx, deps, { user: await newUser(trx), method: 'totp', aal: 'aal2', amr: [earlier, { method: 'totp', timestamp: NOW_S - 5 }], meta }),
    );
    expect(s.session.aal).toBe('aal2');
    expect(s.amr).toEqual([{ method: 'totp', timestamp: NOW_S }, earlier]);
    const rows = await db.db.selectFrom('mfa_amr_claims').select(['authentication_method', 'updated_at']).where('session_id', '=', s.session.id).orderBy('updated_at', 'desc').execute();
    expect(sessions.amrFromRows(rows)).toEqual(s.amr);
    expect((await db.db.selectFrom('sessions').select('aal').where('id', '=', s.session.id).executeTakeFirstOrThrow()).aal).toBe('aal2');
  });

  it('writes nothing when the flow\'s transaction rolls back', async () => {
    let sessionId = '';
    await expect(
      db.db.transaction().execute(async (trx) => {
        sessionId = (await sessions.issue(trx, deps, { user: await newUser(trx), method: 'password', meta })).session.id;
        throw new Error('the flow failed after issuing');
      }),
    ).rejects.toThrow('the flow failed after issuing');
    expect(await db.db.selectFrom('sessions').select('id').where('id', '=', sessionId).executeTakeFirst()).toBeUndefined();
  });
});

describe('sessions.mintTokens', () => {
  it("signs GoTrue's claims, in GoTrue's order, with the key id, at the injected time", async () => {
    const s = await db.db.transaction().execute(async (trx) => sessions.issue(trx, deps, { user: await newUser(trx), method: 'password', meta }));
    const minted = sessions.mintTokens(deps, s);
    expect(minted).toBeInstanceOf(Promise);
    const tokens = await minted;
    expect(tokens).toEqual({ accessToken: expect.any(String), refreshToken: s.refreshToken, expiresIn: 3600, expiresAt: NOW_S + 3600 });
    expect(headerOf(tokens.accessToken)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'test-kid' });
    const claims = claimsOf(tokens.accessToken);
    expect(Object.keys(claims)).toEqual(['iss', 'sub', 'aud', 'exp', 'iat', 'email', 'phone', 'app_metadata', 'user_metadata', 'role', 'aal', 'amr', 'session_id', 'is_anonymous']);
    expect(claims).toMatchObject({
      iss: 'https://auth.example.test/auth/v1',
      sub: s.user.id,
      aud: 'authenticated',
      iat: NOW_S,
      exp: NOW_S + 3600,
      email: s.user.email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: NOW_S }],
      session_id: s.session.id,
      is_anonymous: false,
    });
    expect((await deps.signer.verify(tokens.accessToken)).sub).toBe(s.user.id);
  });

  it('names the OAuth client a session was issued to in client_id, and keeps it across a refresh by that client only', async () => {
    const clientId = (await registerClient(deps, { redirect_uris: ['https://rp.example.com/cb'] }, 'manual')).client.id;
    const s = await db.db.transaction().execute(async (trx) =>
      sessions.issue(trx, deps, { user: await newUser(trx), method: 'oauth', meta, oauthClient: { id: clientId } }),
    );
    expect(claimsOf((await sessions.mintTokens(deps, s)).accessToken).client_id).toBe(clientId);
    expect((await db.db.selectFrom('sessions').select('oauth_client_id').where('id', '=', s.session.id).executeTakeFirstOrThrow()).oauth_client_id).toBe(clientId);
    // An OAuth session's token does not refresh at /token (no client), nor for another client.
    await expect(refreshGrant(deps, meta, s.refreshToken)).rejects.toMatchObject({ code: 'refresh_token_not_found' });
    await expect(refreshGrant(deps, meta, s.refreshToken, { oauthClient: { id: deps.random.uuid(), accessTokenTtl: null } })).rejects.toMatchObject({ code: 'refresh_token_not_found' });
    const refreshed = await refreshGrant(deps, meta, s.refreshToken, { oauthClient: { id: clientId, accessTokenTtl: 600 } });
    expect(claimsOf(refreshed.tokens.accessToken)).toMatchObject({ client_id: clientId, session_id: s.session.id, exp: NOW_S + 600 });
  });

  it('mints the refresh grant the same way: same session, its AAL and the AMR rows, a rotated refresh token', async () => {
    const s = await db.db.transaction().execute(async (trx) => sessions.issue(trx, deps, { user: await newUser(trx), method: 'otp', aal: 'aal2', meta }));
    const issued = claimsOf((await sessions.mintTokens(deps, s)).accessToken);
    const refreshed = await refreshGrant(deps, meta, s.refreshToken);
    expect(refreshed.tokens.refreshToken).not.toBe(s.refreshToken);
    expect(refreshed.tokens.expiresAt).toBe(NOW_S + 3600);
    // At a fixed time, the refreshed token carries exactly the claims the first one did.
    expect(claimsOf(refreshed.tokens.accessToken)).toEqual(issued);
  });
});
