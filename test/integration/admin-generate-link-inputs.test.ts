import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';

const { db, deps, app } = useTestApp();
const confirmed = uniqueEmail('gl-confirmed');
const other = uniqueEmail('gl-other');
const unknown = uniqueEmail('gl-unknown');

beforeAll(async () => {
  await adminCreate(app, deps, { email: confirmed, password: 'pass-word-1', email_confirm: true });
  await adminCreate(app, deps, { email: other, email_confirm: true });
});

describe('invalid input to POST /admin/generate_link is a 4xx with an error_code, never a 5xx', () => {
  type Case = [string, unknown, number, string];
  const cases: Case[] = [
    ['no body', undefined, 400, 'bad_json'],
    ['malformed JSON', '{oops', 400, 'bad_json'],
    ['an array', '[1]', 400, 'bad_json'],
    ['an empty object', {}, 400, 'validation_failed'],
    ['an unknown type', { type: 'sms', email: unknown }, 400, 'validation_failed'],
    ['phone_change (not a link type)', { type: 'phone_change', email: unknown }, 400, 'validation_failed'],
    ['a numeric type', { type: 1, email: unknown }, 400, 'validation_failed'],
    ['no email', { type: 'signup', password: 'pass-word-1' }, 400, 'validation_failed'],
    ['an empty email', { type: 'magiclink', email: '' }, 400, 'validation_failed'],
    ['a numeric email', { type: 'signup', email: 7 }, 400, 'validation_failed'],
    ['a malformed email', { type: 'signup', email: 'not-an-email', password: 'pass-word-1' }, 400, 'email_address_invalid'],
    ['a too long email', { type: 'invite', email: `${'a'.repeat(250)}@b.com` }, 400, 'validation_failed'],
    ['signup without a password', { type: 'signup', email: unknown }, 422, 'validation_failed'],
    ['signup with a weak password', { type: 'signup', email: unknown, password: 'a' }, 422, 'weak_password'],
    ['signup with a numeric password', { type: 'signup', email: unknown, password: 12345678 }, 400, 'validation_failed'],
    ['signup with data that is not an object', { type: 'signup', email: unknown, password: 'pass-word-1', data: 'x' }, 400, 'validation_failed'],
    ['signup of a confirmed address', { type: 'signup', email: confirmed, password: 'pass-word-1' }, 422, 'email_exists'],
    ['invite of a confirmed address', { type: 'invite', email: confirmed }, 422, 'email_exists'],
    ['recovery of an unknown address', { type: 'recovery', email: unknown }, 404, 'user_not_found'],
    ['email_change_new of an unknown address', { type: 'email_change_new', email: unknown, new_email: uniqueEmail() }, 404, 'user_not_found'],
    ['email_change_current of an unknown address', { type: 'email_change_current', email: unknown, new_email: uniqueEmail() }, 404, 'user_not_found'],
    ['email_change_new without new_email', { type: 'email_change_new', email: confirmed }, 400, 'validation_failed'],
    ['email_change_current with a malformed new_email', { type: 'email_change_current', email: confirmed, new_email: 'nope' }, 400, 'email_address_invalid'],
    ['email_change_new to a taken address', { type: 'email_change_new', email: confirmed, new_email: other }, 422, 'email_exists'],
    ['email_change_new to the current address', { type: 'email_change_new', email: confirmed, new_email: confirmed.toUpperCase() }, 422, 'email_exists'],
    ['a numeric new_email', { type: 'email_change_new', email: confirmed, new_email: 5 }, 400, 'validation_failed'],
    ['a numeric redirect_to', { type: 'recovery', email: confirmed, redirect_to: 5 }, 400, 'validation_failed'],
  ];

  it.each(cases)('%s → %i %s', async (_name, body, status, code) => {
    let r = request(app).post('/admin/generate_link').set(adminHeaders(deps));
    if (typeof body === 'string') r = r.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) r = r.send(body as object);
    const res = await r;
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.headers['x-sb-error-code']).toBe(code);
  });

  it('wrote nothing: no user for the unknown address, no token or pending change for the confirmed one', async () => {
    expect(await db.db.selectFrom('users').select('id').where('email', '=', unknown).executeTakeFirst()).toBeUndefined();
    const row = await db.db.selectFrom('users').select(['id', 'email_change', 'recovery_token']).where('email', '=', confirmed).executeTakeFirstOrThrow();
    expect([row.email_change ?? '', row.recovery_token ?? '']).toEqual(['', '']);
    expect(await db.db.selectFrom('one_time_tokens').select('id').where('user_id', '=', row.id).execute()).toEqual([]);
  });
});
