import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otpTokenHash } from '../../src/crypto/otp';
import { INSTANCE_ID, insertUser } from '../../src/db/repositories/users';
import type { Deps } from '../../src/deps';
import type { ApiError } from '../../src/errors/api-error';
import { prepareConfirmation, resendConfirmation, type SendContext } from '../../src/domain/confirmations';
import type { RequestMeta } from '../../src/domain/request-meta';
import { startMailCatcher, type MailCatcher } from '../helpers/mail-catcher';
import { recordingSms, uniquePhone, type RecordingSms } from '../helpers/sms-recorder';
import { onPostgres, openTestDatabase } from '../helpers/test-db';
import { testDeps, uniqueEmail } from '../helpers/test-server';

/**
 * domain/confirmations on the real test database with a fixed clock, mail through a real SMTP listener and SMS
 * through a recording vendor: the confirmation's token is issued in both places under the user's lock, throttled,
 * audited, sent after commit, and put back when the send fails.
 */

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let mail: MailCatcher;
let sms: RecordingSms;
let deps: Deps;
let now = new Date('2026-11-23T10:00:00Z');
const clock = { now: () => now };
const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
/** Races need Postgres: PGlite runs one connection, so its transactions never overlap and a race proves nothing. */
const racing = onPostgres;
const meta: RequestMeta = { ip: '203.0.113.9', userAgent: 'vitest', aud: 'authenticated' };
const byMail: SendContext = { via: 'email', pkce: undefined, redirectTo: 'http://localhost:3000/welcome', smsChannel: 'sms' };
const bySms: SendContext = { via: 'phone', pkce: undefined, redirectTo: 'http://localhost:3000', smsChannel: 'sms' };

beforeAll(async () => {
  db = await openTestDatabase();
  mail = await startMailCatcher();
  sms = recordingSms();
  deps = testDeps(
    db,
    { ...mail.env, GOTRUE_MAILER_AUTOCONFIRM: 'false', GOTRUE_SMTP_MAX_FREQUENCY: '60s', GOTRUE_SMS_MAX_FREQUENCY: '60s', GOTRUE_EXTERNAL_PHONE_ENABLED: 'true' },
    { clock, sms },
  );
});
afterAll(async () => {
  await mail.close();
  await db.close();
});

async function newUser(contact: { email?: string; phone?: string; phoneConfirmed?: boolean }) {
  const id = deps.random.uuid();
  await insertUser(db.db, {
    instance_id: INSTANCE_ID,
    id,
    aud: 'authenticated',
    role: 'authenticated',
    email: contact.email ?? null,
    phone: contact.phone ?? null,
    phone_confirmed_at: contact.phoneConfirmed ? now : null,
    raw_app_meta_data: '{}',
    raw_user_meta_data: '{}',
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  });
  return id;
}

/** The confirmation token as both of its places hold it. */
async function confirmation(userId: string) {
  const user = await db.db.selectFrom('users').select(['confirmation_token', 'confirmation_sent_at']).where('id', '=', userId).executeTakeFirstOrThrow();
  const rows = await db.db.selectFrom('one_time_tokens').select(['token_hash', 'relates_to']).where('user_id', '=', userId).where('token_type', '=', 'confirmation_token').execute();
  return { column: user.confirmation_token, sentAt: user.confirmation_sent_at, rows };
}

async function auditActions(userId: string) {
  const rows = await db.db.selectFrom('audit_log_entries').select('payload').orderBy('created_at').execute();
  return rows.map((r) => r.payload as { actor_id: string; action: string; traits?: { provider?: string } }).filter((p) => p.actor_id === userId);
}

describe('prepareConfirmation', () => {
  it('issues the mail’s token in both places inside the transaction and sends only when asked to', async () => {
    const email = uniqueEmail('confirm');
    const id = await newUser({ email });
    const message = await db.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
      return prepareConfirmation(trx, deps, user, byMail, false);
    });
    const stored = await confirmation(id);
    expect(stored.column).toBe(message.tokenHash);
    expect(stored.rows).toEqual([{ token_hash: message.tokenHash, relates_to: email }]);
    expect(mail.pending(email)).toEqual([]);
    await message.send();
    const sent = await mail.next(email);
    expect(otpTokenHash(email, sent.otp!)).toBe(message.tokenHash);
    expect(sent.link).toContain(`token=${message.tokenHash}`);
  });
});

describe('resendConfirmation', () => {
  it('mails a new confirmation, replacing the previous token in both places, with its audit row', async () => {
    const email = uniqueEmail('resend');
    const id = await newUser({ email });
    await resendConfirmation(deps, meta, id, byMail);
    const first = await mail.next(email);
    later(61);
    await resendConfirmation(deps, meta, id, byMail);
    const second = await mail.next(email);
    const stored = await confirmation(id);
    expect(stored.column).toBe(otpTokenHash(email, second.otp!));
    expect(stored.sentAt).toEqual(now);
    expect(stored.rows.map((r) => r.token_hash)).toEqual([otpTokenHash(email, second.otp!)]);
    expect(second.otp).not.toBe(first.otp);
    expect((await auditActions(id)).map((a) => [a.action, a.traits?.provider])).toEqual([
      ['user_confirmation_requested', 'email'],
      ['user_confirmation_requested', 'email'],
    ]);
  });

  it('is throttled by GOTRUE_SMTP_MAX_FREQUENCY: 429, nothing sent, nothing written, the earlier token still valid', async () => {
    const email = uniqueEmail('throttle');
    const id = await newUser({ email });
    await resendConfirmation(deps, meta, id, byMail);
    await mail.next(email);
    const before = await confirmation(id);
    later(30);
    const refused = await resendConfirmation(deps, meta, id, byMail).catch((e: ApiError) => e);
    expect(refused).toMatchObject({ status: 429, code: 'over_email_send_rate_limit', message: 'For security purposes, you can only request this after 30 seconds.' });
    expect(await confirmation(id)).toEqual(before);
    expect(mail.pending(email)).toEqual([]);
    expect(await auditActions(id)).toHaveLength(1);
  });

  it('puts the previous token back in both places when the mail cannot be sent, so a retry is not throttled', async () => {
    const email = uniqueEmail('smtp-down');
    const id = await newUser({ email });
    await resendConfirmation(deps, meta, id, byMail);
    await mail.next(email);
    const before = await confirmation(id);
    later(61);
    mail.fail = 'rcpt';
    try {
      const failed = await resendConfirmation(deps, meta, id, byMail).catch((e: ApiError) => e);
      expect(failed).toMatchObject({ status: 500, message: 'Error sending confirmation email' });
    } finally {
      mail.fail = 'none';
    }
    expect(await confirmation(id)).toEqual(before);
    await resendConfirmation(deps, meta, id, byMail);
    expect((await mail.next(email)).otp).toBeDefined();
  });

  it('texts the code to an unconfirmed phone, returns the vendor’s message id, and throttles by GOTRUE_SMS_MAX_FREQUENCY', async () => {
    const phone = uniquePhone();
    const id = await newUser({ phone });
    const messageId = await resendConfirmation(deps, meta, id, bySms);
    const texted = sms.lastTo(phone)!;
    expect(messageId).toMatch(/^SM\d+$/);
    expect((await confirmation(id)).column).toBe(otpTokenHash(phone, texted.otp));
    later(10);
    expect(await resendConfirmation(deps, meta, id, bySms).catch((e: ApiError) => e.code)).toBe('over_sms_send_rate_limit');
    expect((await auditActions(id)).map((a) => [a.action, a.traits?.provider])).toEqual([['user_confirmation_requested', 'phone']]);
  });

  it('files a code to an already confirmed phone (an OTP sign-in) as a recovery request', async () => {
    const phone = uniquePhone();
    const id = await newUser({ phone, phoneConfirmed: true });
    await resendConfirmation(deps, meta, id, bySms);
    expect((await auditActions(id)).map((a) => a.action)).toEqual(['user_recovery_requested']);
  });

  it.runIf(racing)('sends one mail when several requests race (Postgres: the row lock holds the throttle)', async () => {
    const email = uniqueEmail('race');
    const id = await newUser({ email });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => resendConfirmation(deps, meta, id, byMail).then(() => 'sent', (e: ApiError) => e.code)));
    expect(outcomes.sort()).toEqual(['over_email_send_rate_limit', 'over_email_send_rate_limit', 'over_email_send_rate_limit', 'over_email_send_rate_limit', 'sent']);
    await mail.next(email);
    expect(mail.pending(email)).toEqual([]);
    expect((await confirmation(id)).rows).toHaveLength(1);
  });
});
