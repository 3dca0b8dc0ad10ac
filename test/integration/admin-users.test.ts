import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { adminCreate, adminHeaders, auditOf, insertFactor } from '../helpers/admin';
import { claimsOf, refresh, signIn, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { API_VERSION, testDeps, uniqueEmail } from '../helpers/test-server';

const { db, deps, app } = useTestApp({ env: { GOTRUE_EXTERNAL_PHONE_ENABLED: 'true', GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'true' } });
let admin: Record<string, string>;

beforeAll(() => {
  admin = adminHeaders(deps);
});

let phoneSeq = 0;
const uniquePhone = () => `1555${String(Date.now() % 1_000_000).padStart(6, '0')}${String(phoneSeq++ % 10)}`;
const getUser = (id: string) => request(app).get(`/admin/users/${id}`).set(admin);
const put = (id: string, body: unknown) => request(app).put(`/admin/users/${id}`).set(admin).send(body as object);
const passwordLogin = (body: Record<string, string>) => request(app).post('/token?grant_type=password').set(API_VERSION).send(body);

describe('POST /admin/users', () => {
  it('creates a confirmed email user who signs in with the password; audited as user_signedup by service_role', async () => {
    const email = uniqueEmail('Admin.Made');
    const u = await adminCreate(app, deps, { email, password: 'pass-word-1', email_confirm: true, user_metadata: { full_name: 'Ada' } });
    expect(u).toMatchObject({
      email: email.toLowerCase(),
      aud: 'authenticated',
      role: 'authenticated',
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { full_name: 'Ada', email_verified: true },
      is_anonymous: false,
    });
    expect(u.email_confirmed_at).toBeTypeOf('string');
    expect(u.confirmed_at).toBe(u.email_confirmed_at);
    expect(u.last_sign_in_at).toBeUndefined();
    expect(u.identities).toEqual([
      expect.objectContaining({ id: u.id, user_id: u.id, provider: 'email', email: email.toLowerCase(), identity_data: { sub: u.id, email: email.toLowerCase(), email_verified: true, phone_verified: false } }),
    ]);
    const session = await signIn(app, email, 'pass-word-1');
    expect(session.user.id).toBe(u.id);
    const audit = await auditOf(db, u.id);
    expect(audit[0]).toMatchObject({
      action: 'user_signedup',
      log_type: 'team',
      actor_id: '00000000-0000-0000-0000-000000000000',
      actor_username: 'service_role',
      traits: { user_id: u.id, user_email: email.toLowerCase(), user_phone: '' },
    });
  });

  it('leaves the email unconfirmed without email_confirm', async () => {
    const email = uniqueEmail();
    const u = await adminCreate(app, deps, { email, password: 'pass-word-1' });
    expect(u.email_confirmed_at).toBeUndefined();
    expect(u.user_metadata).toEqual({});
    const r = await passwordLogin({ email, password: 'pass-word-1' });
    expect([r.status, r.body.code]).toEqual([400, 'email_not_confirmed']);
  });

  it('creates a phone user (E.164 normalised, phone_confirm) who signs in by phone', async () => {
    const phone = uniquePhone();
    const u = await adminCreate(app, deps, { phone: `+${phone.slice(0, 1)} ${phone.slice(1)}`, password: 'pass-word-1', phone_confirm: true });
    expect(u).toMatchObject({ phone, email: '', app_metadata: { provider: 'phone', providers: ['phone'] }, user_metadata: { phone_verified: true } });
    expect(u.phone_confirmed_at).toBeTypeOf('string');
    expect((await passwordLogin({ phone, password: 'pass-word-1' })).status).toBe(200);
  });

  it('takes both an email and a phone, each with its identity', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail(), phone: uniquePhone(), email_confirm: true });
    expect(u.app_metadata).toEqual({ provider: 'email', providers: ['email', 'phone'] });
    expect((u.identities as { provider: string }[]).map((i) => i.provider).sort()).toEqual(['email', 'phone']);
  });

  it('honours id, aud, role and app_metadata (merged over the providers; null deletes a key)', async () => {
    const id = crypto.randomUUID();
    const u = await adminCreate(app, deps, {
      id: id.toUpperCase(),
      aud: 'partners',
      role: 'support_agent',
      email: uniqueEmail(),
      password: 'pass-word-1',
      email_confirm: true,
      app_metadata: { plan: 'gold', provider: null },
    });
    expect(u).toMatchObject({ id, aud: 'partners', role: 'support_agent', app_metadata: { plan: 'gold', providers: ['email'] } });
    expect(u.app_metadata).not.toHaveProperty('provider');
    const session = await request(app).post('/token?grant_type=password').set(API_VERSION).set('X-JWT-AUD', 'partners').send({ email: u.email, password: 'pass-word-1' });
    expect(session.status).toBe(200);
    expect(claimsOf(session.body.access_token)).toMatchObject({ aud: 'partners', role: 'support_agent', app_metadata: { plan: 'gold' } });
  });

  it('without a password creates a user nobody can sign in as by password yet', async () => {
    const email = uniqueEmail();
    const u = await adminCreate(app, deps, { email, email_confirm: true });
    const row = await db.db.selectFrom('users').select('encrypted_password').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.encrypted_password).toBeNull();
    const r = await passwordLogin({ email, password: '' });
    expect(r.status).toBe(400);
    const set = await put(u.id, { password: 'now-a-password' });
    expect(set.status).toBe(200);
    expect((await passwordLogin({ email, password: 'now-a-password' })).status).toBe(200);
  });

  it('answers a taken email 422 email_exists, whatever its case or audience', async () => {
    const email = uniqueEmail();
    await adminCreate(app, deps, { email });
    for (const body of [{ email: email.toUpperCase() }, { email, aud: 'elsewhere' }]) {
      const r = await request(app).post('/admin/users').set(admin).send(body);
      expect([r.status, r.body.code]).toEqual([422, 'email_exists']);
    }
    const signedUp = await signUp(app);
    const r = await request(app).post('/admin/users').set(admin).send({ email: signedUp.email });
    expect([r.status, r.body.code]).toEqual([422, 'email_exists']);
  });

  it('answers a taken phone 422 phone_exists, however it is written', async () => {
    const phone = uniquePhone();
    await adminCreate(app, deps, { phone });
    const r = await request(app).post('/admin/users').set(admin).send({ phone: `+${phone.slice(0, 4)}-${phone.slice(4)}` });
    expect([r.status, r.body.code]).toEqual([422, 'phone_exists']);
  });

  it('answers a taken id 422 user_already_exists', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    const r = await request(app).post('/admin/users').set(admin).send({ id: u.id, email: uniqueEmail() });
    expect([r.status, r.body.code]).toEqual([422, 'user_already_exists']);
  });

  it('creates one user when the same email is created five times at once', async () => {
    const email = uniqueEmail('race');
    const rs = await Promise.all([1, 2, 3, 4, 5].map(() => request(app).post('/admin/users').set(admin).send({ email })));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status !== 200).map((r) => [r.status, r.body.code])).toEqual(Array(4).fill([422, 'email_exists']));
  });

  it('applies the password policy to a given password', async () => {
    const strict = createApp(testDeps(db, { GOTRUE_PASSWORD_MIN_LENGTH: '12' }));
    const r = await request(strict).post('/admin/users').set(admin).send({ email: uniqueEmail(), password: 'short-pw' });
    expect([r.status, r.body.code, r.body.weak_password]).toEqual([422, 'weak_password', { reasons: ['length'] }]);
  });
});

describe('GET /admin/users/{id}', () => {
  it('returns the user as GET /user shows it to the user', async () => {
    const { body } = await signUp(app, uniqueEmail(), 'pass-word-1', { nick: 'x' });
    const r = await getUser(body.user.id);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...body.user, last_sign_in_at: expect.any(String), updated_at: expect.any(String) });
  });

  it('answers an unknown id 404 user_not_found and a malformed one 404 validation_failed', async () => {
    const unknown = await getUser(crypto.randomUUID());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'user_not_found']);
    for (const bad of ['not-a-uuid', '1234', "'; drop table users; --", '00000000-0000-0000-0000-00000000000g']) {
      const r = await getUser(encodeURIComponent(bad));
      expect([r.status, r.body.code], bad).toEqual([404, 'validation_failed']);
    }
  });
});

describe('PUT /admin/users/{id}', () => {
  it('changes role, merges metadata (null deletes) and audits user_modified', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail(), user_metadata: { a: 1, b: 2 }, app_metadata: { tier: 'free' } });
    const r = await put(u.id, { role: 'editor', user_metadata: { b: null, c: 3 }, app_metadata: { tier: 'pro' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'editor', user_metadata: { a: 1, c: 3 }, app_metadata: { tier: 'pro', provider: 'email', providers: ['email'] } });
    expect(r.body.user_metadata).not.toHaveProperty('b');
    expect((await auditOf(db, u.id)).map((a) => a.action)).toEqual(['user_signedup', 'user_modified']);
  });

  it('confirms an email, and changes it (identity follows; a taken one is 422 email_exists)', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail(), password: 'pass-word-1' });
    const confirmed = await put(u.id, { email_confirm: true });
    expect(confirmed.body.email_confirmed_at).toBeTypeOf('string');
    expect(confirmed.body.user_metadata).toEqual({ email_verified: true });
    const next = uniqueEmail('moved');
    const moved = await put(u.id, { email: next, email_confirm: true });
    expect(moved.body.email).toBe(next);
    expect(moved.body.identities).toEqual([expect.objectContaining({ provider: 'email', email: next, identity_data: expect.objectContaining({ email: next, email_verified: true }) })]);
    expect((await passwordLogin({ email: next, password: 'pass-word-1' })).status).toBe(200);
    const other = await adminCreate(app, deps, { email: uniqueEmail() });
    const taken = await put(u.id, { email: other.email.toUpperCase() });
    expect([taken.status, taken.body.code]).toEqual([422, 'email_exists']);
    expect((await put(u.id, { email: next })).status).toBe(200);
  });

  it('adds a phone (a new identity and provider); a taken phone is 422 phone_exists', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    const phone = uniquePhone();
    const r = await put(u.id, { phone, phone_confirm: true });
    expect(r.body).toMatchObject({ phone, app_metadata: { provider: 'email', providers: ['email', 'phone'] } });
    expect(r.body.phone_confirmed_at).toBeTypeOf('string');
    expect((r.body.identities as { provider: string }[]).map((i) => i.provider)).toEqual(['email', 'phone']);
    const other = await adminCreate(app, deps, { email: uniqueEmail() });
    const taken = await put(other.id, { phone });
    expect([taken.status, taken.body.code]).toEqual([422, 'phone_exists']);
  });

  it('turns an anonymous user into a permanent one with a confirmed email', async () => {
    const anon = await request(app).post('/signup').set(API_VERSION).send({});
    const id = anon.body.user.id as string;
    const r = await put(id, { email: uniqueEmail('anon'), email_confirm: true, password: 'pass-word-1' });
    expect(r.body).toMatchObject({ is_anonymous: false, app_metadata: { provider: 'email', providers: ['email'] } });
  });

  it('sets a new password and signs the user out everywhere', async () => {
    const { email, body } = await signUp(app);
    const r = await put(body.user.id, { password: 'brand-new-pw' });
    expect(r.status).toBe(200);
    const dead = await refresh(app, body.refresh_token);
    expect([dead.status, dead.body.code]).toEqual([400, 'refresh_token_not_found']);
    expect((await request(app).get('/user').set('Authorization', `Bearer ${body.access_token}`)).body.error_code).toBe('session_not_found');
    expect((await passwordLogin({ email, password: 'pass-word-1' })).status).toBe(400);
    expect((await passwordLogin({ email, password: 'brand-new-pw' })).status).toBe(200);
  });

  it('answers an unknown user 404 user_not_found before validating the body', async () => {
    const r = await request(app).put(`/admin/users/${crypto.randomUUID()}`).set(admin).send({ email_confirm: 'yes' });
    expect([r.status, r.body.code]).toEqual([404, 'user_not_found']);
  });
});

describe('DELETE /admin/users/{id}', () => {
  it('hard-deletes (no body or should_soft_delete false): the user, identities, sessions and factors go', async () => {
    for (const body of [undefined, { should_soft_delete: false }]) {
      const { body: s } = await signUp(app);
      const id = s.user.id;
      await insertFactor(db, id);
      const r = request(app).delete(`/admin/users/${id}`).set(admin);
      const res = body === undefined ? await r : await r.send(body);
      expect([res.status, res.body]).toEqual([200, {}]);
      expect((await getUser(id)).status).toBe(404);
      for (const table of ['identities', 'sessions', 'mfa_factors'] as const) {
        expect(await db.db.selectFrom(table).select('user_id').where('user_id', '=', id).execute(), table).toEqual([]);
      }
      expect((await refresh(app, s.refresh_token)).body.code).toBe('refresh_token_not_found');
      expect((await auditOf(db, id)).at(-1)).toMatchObject({ action: 'user_deleted', log_type: 'team', actor_username: 'service_role' });
    }
  });

  it('soft-deletes as GoTrue does: obfuscated email/phone, wiped metadata and identities, no factors or sessions', async () => {
    const email = uniqueEmail('soft');
    const phone = uniquePhone();
    const u = await adminCreate(app, deps, { email, phone, password: 'pass-word-1', email_confirm: true, user_metadata: { full_name: 'Ada' }, app_metadata: { plan: 'x' } });
    const session = await signIn(app, email, 'pass-word-1');
    await insertFactor(db, u.id);
    const r = await request(app).delete(`/admin/users/${u.id}`).set(admin).send({ should_soft_delete: true });
    expect([r.status, r.body]).toEqual([200, {}]);

    const after = (await getUser(u.id)).body;
    expect(after.deleted_at).toBeTypeOf('string');
    expect(after.email).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(after.phone).toMatch(/^[A-Za-z0-9_-]{15}$/);
    expect(JSON.stringify(after)).not.toContain(email);
    expect(JSON.stringify(after)).not.toContain(phone);
    expect([after.user_metadata, after.app_metadata, after.factors]).toEqual([{}, {}, undefined]);
    expect((after.identities as { identity_data: unknown; id: string }[]).every((i) => JSON.stringify(i.identity_data) === '{}' && i.id !== u.id)).toBe(true);
    const row = await db.db.selectFrom('users').select('encrypted_password').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.encrypted_password).toBeNull();
    expect(await db.db.selectFrom('sessions').select('id').where('user_id', '=', u.id).execute()).toEqual([]);
    expect((await refresh(app, session.refresh_token)).body.code).toBe('refresh_token_not_found');
    expect((await passwordLogin({ email, password: 'pass-word-1' })).body.code).toBe('invalid_credentials');

    const again = await request(app).delete(`/admin/users/${u.id}`).set(admin).send({ should_soft_delete: true });
    expect(again.status).toBe(200);
    expect((await getUser(u.id)).body.email).toBe(after.email);
    // The address is free again.
    expect((await adminCreate(app, deps, { email, phone })).email).toBe(email);
  });

  it('answers an unknown user 404 user_not_found', async () => {
    const r = await request(app).delete(`/admin/users/${crypto.randomUUID()}`).set(admin);
    expect([r.status, r.body.code]).toEqual([404, 'user_not_found']);
  });
});
