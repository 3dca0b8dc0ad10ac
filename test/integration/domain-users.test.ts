import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/database';
import { insertAuditEntries } from '../../src/db/repositories/audit-log';
import { findUserWithRelations, updateUser } from '../../src/db/repositories/users';
import type { UserRow } from '../../src/db/schema';
import type { Deps } from '../../src/deps';
import type { RequestMeta } from '../../src/domain/request-meta';
import { isUniqueViolation, rethrowUniqueViolation, violatedConstraint } from '../../src/domain/unique-violation';
import {
  appMetadataWithProviders,
  assertNotBanned,
  confirmContact,
  createUser,
  deleteUnsentNewUser,
  removeIdentity,
  syncProviders,
  type BanCheckpoint,
  type NewUserInput,
} from '../../src/domain/users';
import { ApiError, forbidden } from '../../src/errors/api-error';
import { auditEntry } from '../../src/domain/audit';
import { createProvider } from '../../src/services/custom-providers';
import { openTestDatabase } from '../helpers/test-db';
import { testDeps, uniqueEmail } from '../helpers/test-server';

/** The user kernel called directly on the test database, at a fixed time. */

const NOW = new Date('2026-03-01T12:00:00.000Z');
const meta: RequestMeta = { ip: '203.0.113.7', userAgent: 'domain-test', aud: 'authenticated' };

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let deps: Deps;
let phones = 0;
const uniquePhone = () => `1555${Date.now().toString().slice(-5)}${(phones++).toString().padStart(2, '0')}`;

beforeAll(async () => {
  db = await openTestDatabase();
  deps = testDeps(db, {}, { clock: { now: () => NOW } });
});
afterAll(() => db.close());

const create = (input: NewUserInput) => db.db.transaction().execute((trx) => createUser(trx, deps, meta, input));
const reload = async (id: string) => (await findUserWithRelations(db.db, id))!;
const rowOf = (id: string) => db.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** What a function throws (it must throw). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('users.createUser', () => {
  it('email: the address is the one identity, its claims also in user_metadata; no password is stored as ""', async () => {
    const email = uniqueEmail('ch-email');
    const { user, identityIds } = await create({ channel: { kind: 'email', email, confirmed: false }, userMetadata: { plan: 'free' } });
    expect(user).toMatchObject({ email, phone: null, aud: 'authenticated', role: 'authenticated', encrypted_password: '', email_confirmed_at: null, last_sign_in_at: null, is_anonymous: false });
    expect(user.created_at?.toISOString()).toBe(NOW.toISOString());
    expect(user.raw_app_meta_data).toEqual({ provider: 'email', providers: ['email'] });
    const identityData = { sub: user.id, email, email_verified: false, phone_verified: false };
    expect(user.raw_user_meta_data).toEqual({ plan: 'free', ...identityData });
    const full = await reload(user.id);
    expect(full.identities).toEqual([expect.objectContaining({ id: identityIds[0], provider: 'email', provider_id: user.id, identity_data: identityData, last_sign_in_at: null })]);
  });

  it('email, confirmed and signed in at once (autoconfirm): confirmed and last_sign_in_at now, on the user and its identity', async () => {
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('ch-auto'), confirmed: true }, encryptedPassword: 'hash', signedIn: true });
    expect(user.email_confirmed_at?.toISOString()).toBe(NOW.toISOString());
    expect(user.confirmed_at?.toISOString()).toBe(NOW.toISOString());
    expect(user.last_sign_in_at?.toISOString()).toBe(NOW.toISOString());
    expect(user.encrypted_password).toBe('hash');
    expect(user.raw_user_meta_data).toMatchObject({ email_verified: true });
    const [identity] = (await reload(user.id)).identities;
    expect(new Date(identity!.last_sign_in_at!).toISOString()).toBe(NOW.toISOString());
  });

  it('email, invited: invited_at is set', async () => {
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('ch-invite'), confirmed: false }, invited: true });
    expect(user.invited_at?.toISOString()).toBe(NOW.toISOString());
  });

  it('phone: the number is the one identity, phone_verified as confirmed', async () => {
    const phone = uniquePhone();
    const { user } = await create({ channel: { kind: 'phone', phone, confirmed: true } });
    expect(user).toMatchObject({ email: null, phone, raw_app_meta_data: { provider: 'phone', providers: ['phone'] } });
    expect(user.phone_confirmed_at?.toISOString()).toBe(NOW.toISOString());
    expect((await reload(user.id)).identities[0]!.identity_data).toEqual({ sub: user.id, phone, email_verified: false, phone_verified: true });
  });

  it('anonymous: no identity, app_metadata {}, signed in now', async () => {
    const { user, identityIds } = await create({ channel: { kind: 'anonymous' }, userMetadata: { theme: 'dark' }, signedIn: true });
    expect(identityIds).toEqual([]);
    expect(user).toMatchObject({ is_anonymous: true, email: null, phone: null, encrypted_password: null, raw_app_meta_data: {}, raw_user_meta_data: { theme: 'dark' } });
    expect(user.last_sign_in_at?.toISOString()).toBe(NOW.toISOString());
  });

  it("provider: the provider's subject is the identity, used for sign-in now; its claims are user_metadata", async () => {
    const email = uniqueEmail('ch-github');
    const identityData = { sub: '4242', email, email_verified: true, user_name: 'octo' };
    const { user, identityIds } = await create({ channel: { kind: 'provider', provider: 'github', subject: '4242', identityData, email } });
    expect(user).toMatchObject({ email, encrypted_password: null, email_confirmed_at: null, raw_app_meta_data: { provider: 'github', providers: ['github'] }, raw_user_meta_data: identityData });
    const [identity] = (await reload(user.id)).identities;
    expect(identity).toMatchObject({ id: identityIds[0], provider: 'github', provider_id: '4242', email });
    expect(new Date(identity!.last_sign_in_at!).toISOString()).toBe(NOW.toISOString());
  });

  it('admin: email and phone identities (email first), the given id, aud, role and ban; app_metadata merged over the providers', async () => {
    const id = deps.random.uuid();
    const email = uniqueEmail('ch-admin');
    const phone = uniquePhone();
    const bannedUntil = new Date(NOW.getTime() + 3_600_000);
    const { user, identityIds } = await create({
      channel: { kind: 'admin', email, phone, emailConfirmed: true, phoneConfirmed: false, appMetadata: { plan: 'gold', provider: null }, bannedUntil },
      id,
      aud: 'partners',
      role: 'support_agent',
      encryptedPassword: null,
      userMetadata: { name: 'Ada' },
    });
    expect(user).toMatchObject({ id, aud: 'partners', role: 'support_agent', email, phone, encrypted_password: null, phone_confirmed_at: null });
    expect(user.banned_until?.toISOString()).toBe(bannedUntil.toISOString());
    expect(user.raw_app_meta_data).toEqual({ plan: 'gold', providers: ['email', 'phone'] });
    // Admin-created users carry only the confirmations in user_metadata, not the identity's claims.
    expect(user.raw_user_meta_data).toEqual({ name: 'Ada', email_verified: true });
    const identities = (await reload(id)).identities;
    expect(identities.map((i) => [i.id, i.provider, i.identity_data])).toEqual(
      expect.arrayContaining([
        [identityIds[0], 'email', { sub: id, email, email_verified: true, phone_verified: false }],
        [identityIds[1], 'phone', { sub: id, phone, email_verified: false, phone_verified: false }],
      ]),
    );
  });

  it('a taken address fails on the unique index, and maps to email_exists', async () => {
    const email = uniqueEmail('ch-taken');
    await create({ channel: { kind: 'email', email, confirmed: false } });
    const err = await thrown(() => create({ channel: { kind: 'email', email, confirmed: false } }));
    expect(violatedConstraint(err)).toBe('users_email_partial_key');
    const mapped = await thrown(() => rethrowUniqueViolation(err));
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped).toMatchObject({ status: 422, code: 'email_exists', cause: err });
  });
});

describe('users.confirmContact', () => {
  it('confirms an email once: confirmed_at now, user_metadata and the identity verified; then false, nothing written', async () => {
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('confirm'), confirmed: false }, userMetadata: { keep: 1 } });
    expect(await db.db.transaction().execute((trx) => confirmContact(trx, deps, user, 'email'))).toBe(true);
    const after = await reload(user.id);
    expect(after.email_confirmed_at?.toISOString()).toBe(NOW.toISOString());
    expect(after.raw_user_meta_data).toMatchObject({ keep: 1, email_verified: true });
    expect(after.identities.map((i) => i.identity_data.email_verified)).toEqual([true]);
    const confirmed = await rowOf(user.id);
    expect(await db.db.transaction().execute((trx) => confirmContact(trx, deps, confirmed, 'email'))).toBe(false);
  });

  it('confirms a phone the user has no identity for yet: the identity is made and providers follow', async () => {
    const phone = uniquePhone();
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('confirm-phone'), confirmed: true } });
    await updateUser(db.db, user.id, { phone });
    const withPhone = await rowOf(user.id);
    await db.db.transaction().execute((trx) => confirmContact(trx, deps, withPhone, 'phone'));
    const after = await reload(user.id);
    expect(after.phone_confirmed_at?.toISOString()).toBe(NOW.toISOString());
    // Both identities date from the fixed NOW, so their order is the ids'.
    expect(after.raw_app_meta_data).toEqual({ provider: 'email', providers: expect.arrayContaining(['email', 'phone']) });
    expect(after.raw_app_meta_data?.providers).toHaveLength(2);
    expect(after.identities.find((i) => i.provider === 'phone')?.identity_data).toEqual({ sub: user.id, phone, email_verified: false, phone_verified: true });
  });
});

describe('users: app_metadata.providers', () => {
  it.each([
    ['keeps provider while it is one of the providers', { provider: 'github', plan: 'x' }, ['email', 'github'], { provider: 'github', providers: ['email', 'github'], plan: 'x' }],
    ['takes the first provider when provider is gone', { provider: 'phone' }, ['email', 'github'], { provider: 'email', providers: ['email', 'github'] }],
    ['sets provider for a user that had none (anonymous)', {}, ['email'], { provider: 'email', providers: ['email'] }],
    ['drops provider when no identity is left', { provider: 'email' }, [], { providers: [] }],
    ['lists each provider once', null, ['email', 'email', 'phone'], { provider: 'email', providers: ['email', 'phone'] }],
  ])('%s', (_name, app, providers, expected) => {
    expect(appMetadataWithProviders(app, providers)).toEqual(expected);
  });

  it('syncProviders re-derives the list from the identities and writes it', async () => {
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('sync'), confirmed: true } });
    await db.db.insertInto('identities').values({ provider_id: 'g-1', user_id: user.id, provider: 'github', identity_data: JSON.stringify({ sub: 'g-1' }), created_at: new Date(NOW.getTime() + 1000), updated_at: NOW }).execute();
    await db.db.transaction().execute((trx) => syncProviders(trx, user, NOW));
    expect((await rowOf(user.id)).raw_app_meta_data).toEqual({ provider: 'email', providers: ['email', 'github'] });
  });
});

describe('users.removeIdentity', () => {
  const remove = (user: UserRow, identityId: string) => db.db.transaction().execute((trx: Executor) => removeIdentity(trx, deps, user, identityId));

  it('refuses to remove the last identity', async () => {
    const { user, identityIds } = await create({ channel: { kind: 'email', email: uniqueEmail('last'), confirmed: true } });
    expect(await thrown(() => remove(user, identityIds[0]!))).toMatchObject({ status: 422, code: 'single_identity_not_deletable' });
  });

  it('unlinking phone clears the phone; providers follow', async () => {
    const { user, identityIds } = await create({ channel: { kind: 'admin', email: uniqueEmail('unlink'), phone: uniquePhone(), emailConfirmed: true, phoneConfirmed: true, appMetadata: {}, bannedUntil: null } });
    await remove(user, identityIds[1]!);
    expect(await rowOf(user.id)).toMatchObject({ phone: null, raw_app_meta_data: { provider: 'email', providers: ['email'] } });
  });

  it('an email that falls back to an address another user holds is email_conflict_identity_not_deletable, and nothing changes', async () => {
    const taken = uniqueEmail('held');
    await create({ channel: { kind: 'email', email: taken, confirmed: true } });
    const { user, identityIds } = await create({ channel: { kind: 'email', email: uniqueEmail('mine'), confirmed: true } });
    await db.db.insertInto('identities').values({ provider_id: 'g-2', user_id: user.id, provider: 'github', identity_data: JSON.stringify({ sub: 'g-2', email: taken }), created_at: NOW, updated_at: NOW }).execute();
    const err = await thrown(() => remove(user, identityIds[0]!));
    expect(err).toMatchObject({ status: 422, code: 'email_conflict_identity_not_deletable' });
    expect((await reload(user.id)).identities).toHaveLength(2);
  });
});

describe('users.assertNotBanned', () => {
  const banned = { banned_until: new Date(NOW.getTime() + 1000) };
  it.each<[BanCheckpoint, number, string]>([
    ['token', 400, 'User is banned'],
    ['refresh', 400, 'Invalid Refresh Token: User Banned'],
    ['verify', 403, 'User is banned'],
    ['external', 403, 'User is banned'],
    ['request', 403, 'User is banned'],
  ])('a banned user at %s: %i user_banned', (at, status, message) => {
    expect(() => assertNotBanned(banned, NOW, at)).toThrow(expect.objectContaining({ status, code: 'user_banned', message }));
  });

  it.each([
    ['never banned', null],
    ['a ban that ran out', new Date(NOW.getTime() - 1000)],
    ['a ban that ends right now', NOW],
  ])('lets %s through', (_name, until) => {
    expect(() => assertNotBanned({ banned_until: until }, NOW, 'token')).not.toThrow();
  });
});

describe('unique violations', () => {
  async function violation(write: () => Promise<unknown>): Promise<unknown> {
    return thrown(write);
  }

  it('maps each known constraint to its answer', async () => {
    const { user } = await create({ channel: { kind: 'phone', phone: uniquePhone(), confirmed: true } });
    const factor = (friendlyName: string, phone: string) => ({
      id: deps.random.uuid(),
      user_id: user.id,
      friendly_name: friendlyName,
      factor_type: 'phone' as const,
      status: 'verified' as const,
      phone,
      created_at: NOW,
      updated_at: NOW,
    });
    await db.db.insertInto('mfa_factors').values(factor('mine', '15550001')).execute();
    const cases: [() => Promise<unknown>, number, string][] = [
      [() => create({ channel: { kind: 'phone', phone: user.phone!, confirmed: false } }), 422, 'phone_exists'],
      [() => create({ channel: { kind: 'anonymous' }, id: user.id }), 422, 'user_already_exists'],
      [() => db.db.insertInto('mfa_factors').values(factor('mine', '15550002')).execute(), 422, 'mfa_factor_name_conflict'],
      [() => db.db.insertInto('mfa_factors').values(factor('other', '15550001')).execute(), 422, 'phone_exists'],
    ];
    for (const [write, status, code] of cases) {
      const err = await violation(write);
      expect(isUniqueViolation(err)).toBe(true);
      expect(await thrown(() => rethrowUniqueViolation(err))).toMatchObject({ status, code });
    }
  });

  it("a place's own answer wins (a duplicate custom provider is 409 conflict); a constraint with no answer goes on unchanged", async () => {
    const identifier = `custom:dup${Date.now().toString(36)}`;
    const fields = {
      provider_type: 'oauth2' as const,
      identifier,
      name: 'Dup',
      client_id: 'c',
      client_secret: 's',
      authorization_url: 'https://idp.example/authorize',
      token_url: 'https://idp.example/token',
      userinfo_url: 'https://idp.example/userinfo',
    };
    // Custom-provider secrets are always sealed, so these deps carry a vault key.
    const sealing = testDeps(db, { GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` }, { clock: { now: () => NOW } });
    await createProvider(sealing, fields);
    const err = await thrown(() => createProvider(sealing, fields));
    expect(err).toMatchObject({ status: 409, code: 'conflict', message: `A custom provider ${identifier} already exists` });
    const dbError = (err as ApiError).cause;
    expect(violatedConstraint(dbError)).toBe('custom_oauth_providers_identifier_key');
    // Elsewhere, with no answer for that constraint, the database error goes on unchanged (a 500 with an error id).
    expect(await thrown(() => rethrowUniqueViolation(dbError, { users_email_partial_key: () => forbidden('conflict', 'no') }))).toBe(dbError);
  });

  it('leaves any other error alone', async () => {
    const other = new Error('connection reset');
    expect(violatedConstraint(other)).toBeUndefined();
    expect(await thrown(() => rethrowUniqueViolation(other))).toBe(other);
    const notNull = await violation(() => db.db.insertInto('users').values({ id: null as unknown as string }).execute());
    expect(isUniqueViolation(notNull)).toBe(false);
  });
});

describe('users.deleteUnsentNewUser', () => {
  async function unsentSignup(token: string) {
    const { user } = await create({ channel: { kind: 'email', email: uniqueEmail('unsent'), confirmed: false } });
    await db.db.updateTable('users').set({ confirmation_token: token }).where('id', '=', user.id).execute();
    const audit = auditEntry(deps, meta, user, 'user_confirmation_requested');
    await insertAuditEntries(db.db, [audit]);
    const flowId = deps.random.uuid();
    await db.db.insertInto('flow_state').values({ id: flowId, user_id: user.id, provider_type: 'email', authentication_method: 'email/signup', created_at: NOW, updated_at: NOW }).execute();
    return { user, auditId: audit.id, flowId };
  }
  const exists = async (table: 'users' | 'flow_state' | 'audit_log_entries', id: string) =>
    (await db.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

  it('deletes the user, its flows and the audit rows of its creation while it still holds the unsent token', async () => {
    const { user, auditId, flowId } = await unsentSignup('tok-unsent-1');
    await db.db.transaction().execute((trx) => deleteUnsentNewUser(trx, user.id, { column: 'confirmation_token', token: 'tok-unsent-1' }, [auditId]));
    expect([await exists('users', user.id), await exists('flow_state', flowId), await exists('audit_log_entries', auditId)]).toEqual([false, false, false]);
  });

  it('keeps a user another request has since sent its own message to', async () => {
    const { user, auditId, flowId } = await unsentSignup('tok-unsent-2');
    await db.db.updateTable('users').set({ confirmation_token: 'tok-sent-later' }).where('id', '=', user.id).execute();
    await db.db.transaction().execute((trx) => deleteUnsentNewUser(trx, user.id, { column: 'confirmation_token', token: 'tok-unsent-2' }, [auditId]));
    expect([await exists('users', user.id), await exists('flow_state', flowId), await exists('audit_log_entries', auditId)]).toEqual([true, true, true]);
  });

  it('with no audit rows to remove, still deletes the user', async () => {
    const { user } = await unsentSignup('tok-unsent-3');
    await db.db.transaction().execute((trx) => deleteUnsentNewUser(trx, user.id, { column: 'confirmation_token', token: 'tok-unsent-3' }, []));
    expect(await exists('users', user.id)).toBe(false);
  });
});
