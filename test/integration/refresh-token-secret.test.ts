import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { refresh, signUp } from '../helpers/flows';
import { dbKind, openTestDatabase } from '../helpers/test-db';
import { API_VERSION, testDeps } from '../helpers/test-server';

let db: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

const OLD_SECRET = 'the-old-jwt-secret-that-is-32-bytes-long';
const NEW_SECRET = 'the-new-jwt-secret-that-is-32-bytes-long';
const REFRESH_SECRET = 'a-refresh-token-secret-of-its-own-32-bytes';

/** The app as a server started with these settings would serve it, over the shared test database. */
const appWith = (env: Record<string, string>) => createApp(testDeps(db, env));
const getUser = (app: ReturnType<typeof createApp>, token: string) => request(app).get('/user').set(API_VERSION).set('Authorization', `Bearer ${token}`);

describe(`GOTRUE_SECURITY_REFRESH_TOKEN_SECRET (${dbKind})`, () => {
  it('unset, refresh tokens hang on the JWT secret: rotating the secret ends them (as before the setting existed)', async () => {
    const { body } = await signUp(appWith({ GOTRUE_JWT_SECRET: OLD_SECRET }));
    const rotated = appWith({ GOTRUE_JWT_SECRET: NEW_SECRET });
    const r = await refresh(rotated, body.refresh_token);
    expect([r.status, r.body.code]).toEqual([400, 'refresh_token_not_found']);
  });

  it('set to the old JWT secret, sessions survive the rotation: old refresh tokens swap for tokens of the new secret', async () => {
    const before = appWith({ GOTRUE_JWT_SECRET: OLD_SECRET });
    const { body } = await signUp(before);
    const after = appWith({ GOTRUE_JWT_SECRET: NEW_SECRET, GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: OLD_SECRET });
    expect((await getUser(after, body.access_token)).body.code).toBe('bad_jwt');
    const r = await refresh(after, body.refresh_token);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await getUser(after, r.body.access_token)).body.id).toBe(body.user.id);
    expect((await refresh(after, r.body.refresh_token)).status).toBe(200);
  });

  it('a secret of its own: the JWT secret can change freely, and refresh tokens do not verify without it', async () => {
    const { body } = await signUp(appWith({ GOTRUE_JWT_SECRET: OLD_SECRET, GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: REFRESH_SECRET }));
    const withoutIt = await refresh(appWith({ GOTRUE_JWT_SECRET: OLD_SECRET }), body.refresh_token);
    expect([withoutIt.status, withoutIt.body.code]).toEqual([400, 'refresh_token_not_found']);
    const r = await refresh(appWith({ GOTRUE_JWT_SECRET: NEW_SECRET, GOTRUE_SECURITY_REFRESH_TOKEN_SECRET: REFRESH_SECRET }), body.refresh_token);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });
});
