import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otpTokenHash } from '../../src/crypto/otp';
import { INSTANCE_ID, insertUser, lockUser } from '../../src/db/repositories/users';
import type { OneTimeTokenType } from '../../src/db/schema';
import type { Deps } from '../../src/deps';
import type { ApiError } from '../../src/errors/api-error';
import {
  consumeToken,
  findTokenByHash,
  findTokenByOtp,
  isTokenExpired,
  issueToken,
  MAX_WRONG_GUESSES,
  revertIssuedToken,
  revokeAllTokens,
  revokeTokens,
  type IssueTokenInput,
} from '../../src/domain/one-time-tokens';
import { onPostgres, openTestDatabase } from '../helpers/test-db';
import { testDeps, uniqueEmail } from '../helpers/test-server';
import { uniquePhone } from '../helpers/sms-recorder';

/**
 * domain/one-time-tokens on the real test database with a fixed clock: a token is written to, replaced in and
 * removed from both of its places together (the users column with its sent_at, and the one_time_tokens row), is
 * consumed once, and is throttled per user.
 */

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let deps: Deps;
let now = new Date('2026-11-23T10:00:00Z');
const clock = { now: () => now };
const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
/** Races need Postgres: PGlite runs one connection, so its transactions never overlap and a race proves nothing. */
const racing = onPostgres;

beforeAll(async () => {
  db = await openTestDatabase();
  deps = testDeps(db, { GOTRUE_SMTP_MAX_FREQUENCY: '60s', GOTRUE_SMS_MAX_FREQUENCY: '30s', GOTRUE_MAILER_OTP_EXP: '3600' }, { clock });
});
afterAll(() => db.close());

async function newUser(contact: { email?: string; phone?: string } = { email: uniqueEmail('ott') }) {
  const id = deps.random.uuid();
  await insertUser(db.db, {
    instance_id: INSTANCE_ID,
    id,
    aud: 'authenticated',
    role: 'authenticated',
    email: contact.email ?? null,
    phone: contact.phone ?? null,
    raw_app_meta_data: '{}',
    raw_user_meta_data: '{}',
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  });
  return { id, relatesTo: contact.email ?? contact.phone! };
}

/** Both places a token of this type lives, as stored. */
async function stored(userId: string, type: OneTimeTokenType) {
  const user = await db.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const rows = await db.db.selectFrom('one_time_tokens').selectAll().where('user_id', '=', userId).where('token_type', '=', type).execute();
  const sentAt = type === 'confirmation_token' ? user.confirmation_sent_at : type === 'recovery_token' ? user.recovery_sent_at : undefined;
  return { column: user[type], sentAt, rows };
}

/** issueToken under the user's row lock, taken as every flow takes it: first in its transaction. */
const issue = (user: { id: string; relatesTo: string }, otp: string, over: Partial<IssueTokenInput> = {}) =>
  db.db.transaction().execute(async (trx) =>
    issueToken(trx, deps, { user: (await lockUser(trx, user.id))!, type: 'confirmation_token', relatesTo: user.relatesTo, otp, pkce: false, throttle: false, ...over }),
  );

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as ApiError).code;
  }
};

describe('issuing a token', () => {
  it('writes the users column with its sent_at and the one_time_tokens row together, hash only', async () => {
    const user = await newUser();
    const issued = await issue(user, '123456');
    const hash = otpTokenHash(user.relatesTo, '123456');
    expect(issued.tokenHash).toBe(hash);
    const s = await stored(user.id, 'confirmation_token');
    expect(s.column).toBe(hash);
    expect(s.sentAt).toEqual(now);
    expect(s.rows).toEqual([expect.objectContaining({ token_hash: hash, relates_to: user.relatesTo, verify_attempts: 0 })]);
  });

  it('prefixes a PKCE token in both places', async () => {
    const user = await newUser();
    const issued = await issue(user, '654321', { pkce: true });
    expect(issued.tokenHash).toBe(`pkce_${otpTokenHash(user.relatesTo, '654321')}`);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows[0]?.token_hash]).toEqual([issued.tokenHash, issued.tokenHash]);
  });

  it('replaces the previous token of its type in both places: one row per user and type, attempts reset', async () => {
    const user = await newUser();
    await issue(user, '111111');
    await findTokenByOtp(deps, 'authenticated', user.relatesTo, '999999', ['confirmation_token']);
    later(5);
    const second = await issue(user, '222222');
    const s = await stored(user.id, 'confirmation_token');
    expect(s.column).toBe(second.tokenHash);
    expect(s.sentAt).toEqual(now);
    expect(s.rows).toEqual([expect.objectContaining({ token_hash: second.tokenHash, verify_attempts: 0 })]);
    expect(await findTokenByOtp(deps, 'authenticated', user.relatesTo, '111111', ['confirmation_token'])).toBeUndefined();
  });

  it('leaves the user’s tokens of other types alone', async () => {
    const user = await newUser();
    const recovery = await issue(user, '333333', { type: 'recovery_token' });
    await issue(user, '444444');
    const s = await stored(user.id, 'recovery_token');
    expect([s.column, s.rows.map((r) => r.token_hash)]).toEqual([recovery.tokenHash, [recovery.tokenHash]]);
  });
});

describe('the per-user throttle', () => {
  it('refuses a second email token within GOTRUE_SMTP_MAX_FREQUENCY with 429 and the seconds to wait, then allows it', async () => {
    const user = await newUser();
    const first = await issue(user, '111111', { throttle: true });
    later(20);
    const refused = await issue(user, '222222', { throttle: true }).catch((e: ApiError) => e);
    expect(refused).toMatchObject({ status: 429, code: 'over_email_send_rate_limit', message: 'For security purposes, you can only request this after 40 seconds.' });
    // The refused request changed nothing: the first token still stands in both places.
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows.map((r) => r.token_hash)]).toEqual([first.tokenHash, [first.tokenHash]]);
    later(40);
    expect(await codeOf(issue(user, '222222', { throttle: true }))).toBe('ok');
  });

  it('counts SMS tokens against GOTRUE_SMS_MAX_FREQUENCY', async () => {
    const user = await newUser({ phone: uniquePhone() });
    await issue(user, '111111', { throttle: true });
    later(29);
    expect(await codeOf(issue(user, '222222', { throttle: true }))).toBe('over_sms_send_rate_limit');
    later(1);
    expect(await codeOf(issue(user, '222222', { throttle: true }))).toBe('ok');
  });

  it('does not hold back a token issued without the throttle (a first mail, an admin link)', async () => {
    const user = await newUser();
    await issue(user, '111111');
    expect(await codeOf(issue(user, '222222'))).toBe('ok');
  });

  it.runIf(racing)('lets exactly one of several concurrent throttled requests through (Postgres: real concurrency)', async () => {
    const user = await newUser();
    const codes = await Promise.all(Array.from({ length: 6 }, (_, i) => codeOf(issue(user, String(100000 + i), { throttle: true }))));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'over_email_send_rate_limit')).toHaveLength(5);
    expect((await stored(user.id, 'confirmation_token')).rows).toHaveLength(1);
  });
});

describe('undoing an unsent token', () => {
  it('puts the previous token and its sent_at back in both places, so asking again is not throttled', async () => {
    const user = await newUser();
    const first = await issue(user, '111111');
    const firstRow = (await stored(user.id, 'confirmation_token')).rows[0];
    const sentAt = now;
    later(90);
    const second = await issue(user, '222222', { throttle: true });
    await db.db.transaction().execute((trx) => revertIssuedToken(trx, second));
    const s = await stored(user.id, 'confirmation_token');
    expect(s.column).toBe(first.tokenHash);
    expect(s.sentAt).toEqual(sentAt);
    expect(s.rows).toEqual([firstRow]);
    expect(await codeOf(issue(user, '333333', { throttle: true }))).toBe('ok');
  });

  it('removes a first token from both places', async () => {
    const user = await newUser();
    const issued = await issue(user, '111111');
    await revertIssuedToken(db.db, issued);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.sentAt, s.rows]).toEqual([null, null, []]);
  });

  it('leaves a token issued meanwhile alone, in both places', async () => {
    const user = await newUser();
    const unsent = await issue(user, '111111');
    const newer = await issue(user, '222222');
    await revertIssuedToken(db.db, unsent);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows.map((r) => r.token_hash)]).toEqual([newer.tokenHash, [newer.tokenHash]]);
  });

  it('does not bring back the previous token when the user’s tokens were revoked meanwhile', async () => {
    const user = await newUser();
    await issue(user, '111111');
    const unsent = await issue(user, '222222');
    await revokeAllTokens(db.db, user.id);
    await revertIssuedToken(db.db, unsent);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows]).toEqual(['', []]);
    expect(await findTokenByOtp(deps, 'authenticated', user.relatesTo, '111111', ['confirmation_token'])).toBeUndefined();
  });
});

describe('finding and consuming a token', () => {
  it('finds a typed code and a link’s hash (with or without the pkce_ prefix), and dates it by sent_at', async () => {
    const user = await newUser();
    const issued = await issue(user, '123456', { pkce: true });
    const byOtp = await findTokenByOtp(deps, 'authenticated', user.relatesTo, '123456', ['confirmation_token']);
    expect(byOtp?.user.id).toBe(user.id);
    expect((await findTokenByHash(db.db, issued.tokenHash, ['confirmation_token']))?.token.id).toBe(byOtp?.token.id);
    expect((await findTokenByHash(db.db, issued.tokenHash.replace('pkce_', ''), ['confirmation_token']))?.token.id).toBe(byOtp?.token.id);
    expect(await findTokenByHash(db.db, issued.tokenHash, ['recovery_token'])).toBeUndefined();
    expect(isTokenExpired(deps, byOtp!)).toBe(false);
    later(3601);
    expect(isTokenExpired(deps, byOtp!)).toBe(true);
  });

  it('consumes once, clearing both places', async () => {
    const user = await newUser();
    await issue(user, '123456');
    const match = (await findTokenByOtp(deps, 'authenticated', user.relatesTo, '123456', ['confirmation_token']))!;
    expect(await db.db.transaction().execute((trx) => consumeToken(trx, match))).toBe(true);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows]).toEqual(['', []]);
    expect(await db.db.transaction().execute((trx) => consumeToken(trx, match))).toBe(false);
  });

  it.runIf(racing)('lets exactly one of several concurrent verifications consume it (Postgres: real concurrency)', async () => {
    const user = await newUser();
    await issue(user, '123456');
    const match = (await findTokenByOtp(deps, 'authenticated', user.relatesTo, '123456', ['confirmation_token']))!;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        db.db.transaction().execute(async (trx) => {
          const consumed = await consumeToken(trx, match);
          // Hold the transaction open a moment, so the others really overlap with it.
          await new Promise((r) => setTimeout(r, 20));
          return consumed;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await stored(user.id, 'confirmation_token')).column).toBe('');
  });

  it(`drops a code from both places at the ${MAX_WRONG_GUESSES}th wrong guess`, async () => {
    const user = await newUser();
    await issue(user, '123456');
    for (let i = 0; i < MAX_WRONG_GUESSES - 1; i++) {
      expect(await findTokenByOtp(deps, 'authenticated', user.relatesTo, '000000', ['confirmation_token'])).toBeUndefined();
    }
    expect((await stored(user.id, 'confirmation_token')).rows[0]?.verify_attempts).toBe(MAX_WRONG_GUESSES - 1);
    await findTokenByOtp(deps, 'authenticated', user.relatesTo, '000000', ['confirmation_token']);
    const s = await stored(user.id, 'confirmation_token');
    expect([s.column, s.rows]).toEqual(['', []]);
    expect(await findTokenByOtp(deps, 'authenticated', user.relatesTo, '123456', ['confirmation_token'])).toBeUndefined();
  });
});

describe('revoking tokens', () => {
  it('revokes the given types from both places and keeps the others', async () => {
    const user = await newUser();
    await issue(user, '111111');
    const recovery = await issue(user, '222222', { type: 'recovery_token' });
    await revokeTokens(db.db, user.id, ['confirmation_token']);
    const confirmation = await stored(user.id, 'confirmation_token');
    expect([confirmation.column, confirmation.rows]).toEqual(['', []]);
    expect((await stored(user.id, 'recovery_token')).column).toBe(recovery.tokenHash);
  });

  it('revokes every token of the user from both places', async () => {
    const user = await newUser();
    await issue(user, '111111');
    await issue(user, '222222', { type: 'recovery_token' });
    await revokeAllTokens(db.db, user.id);
    for (const type of ['confirmation_token', 'recovery_token'] as const) {
      const s = await stored(user.id, type);
      expect([s.column, s.rows]).toEqual(['', []]);
    }
  });
});
