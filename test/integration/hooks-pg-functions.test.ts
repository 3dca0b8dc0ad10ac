import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsOf } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind, onPostgres } from '../helpers/test-db';
import { API_VERSION, uniqueEmail } from '../helpers/test-server';

/**
 * `pg-functions://` hooks: plpgsql functions in the same database, called with the hook's input as jsonb. They run
 * on PGlite too (plpgsql is built in); only the statement_timeout test needs Postgres (see there).
 */
const schema = `hook_fns_${randomBytes(4).toString('hex')}`;
const uri = (fn: string) => `pg-functions://postgres/${schema}/${fn}`;

const server = useTestApp({
  env: {
    GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_ENABLED: 'true',
    GOTRUE_HOOK_CUSTOM_ACCESS_TOKEN_URI: uri('add_claims'),
    GOTRUE_HOOK_PASSWORD_VERIFICATION_ATTEMPT_ENABLED: 'true',
    GOTRUE_HOOK_PASSWORD_VERIFICATION_ATTEMPT_URI: uri('password_attempt'),
    GOTRUE_HOOK_BEFORE_USER_CREATED_ENABLED: 'true',
    GOTRUE_HOOK_BEFORE_USER_CREATED_URI: uri('before_user'),
    GOTRUE_HOOK_AFTER_USER_CREATED_ENABLED: 'true',
    GOTRUE_HOOK_AFTER_USER_CREATED_URI: uri('after_user'),
  },
  overrides: { hooks: { pgTimeoutMs: 300 } },
});

const FUNCTIONS = `
create schema ${schema};
create table ${schema}.seen (kind text, payload jsonb);
create function ${schema}.add_claims(event jsonb) returns jsonb language plpgsql as $$
begin
  insert into ${schema}.seen values ('custom_access_token', event);
  return jsonb_build_object('claims', jsonb_set(event->'claims', '{tenant}', to_jsonb(event->>'authentication_method')));
end $$;
create function ${schema}.password_attempt(event jsonb) returns jsonb language plpgsql as $$
begin
  if (event->>'valid')::boolean then return jsonb_build_object('decision', 'continue'); end if;
  return jsonb_build_object('decision', 'reject', 'message', 'Wrong again, says Postgres');
end $$;
create function ${schema}.before_user(event jsonb) returns jsonb language plpgsql as $$
begin
  if event->'user'->>'email' like '%@blocked.test' then
    return jsonb_build_object('error', jsonb_build_object('http_code', 403, 'message', 'Domain not allowed'));
  end if;
  if event->'user'->>'email' like 'slow-%' then perform pg_sleep(2); end if;
  return '{}'::jsonb;
end $$;
create function ${schema}.after_user(event jsonb) returns jsonb language plpgsql as $$
begin
  if event->'user'->>'email' like 'boom-%' then raise exception 'after hook exploded'; end if;
  insert into ${schema}.seen values ('after_user_created', event);
  return null;
end $$;
`;

beforeAll(async () => {
  await sql.raw(FUNCTIONS).execute(server.db.db);
});
afterAll(async () => {
  if (onPostgres) await sql.raw(`drop schema if exists ${schema} cascade`).execute(server.db.db);
});

const seen = async (kind: string) =>
  (await sql<{ payload: Record<string, unknown> }>`select payload from ${sql.id(schema, 'seen')} where kind = ${kind}`.execute(server.db.db)).rows.map((r) => r.payload);

const password = 'pass-word-1';

describe(`auth hooks as Postgres functions (${dbKind})`, () => {
  it('custom access token: the function adds a claim to the signed token; the input carries user_id and claims', async () => {
    const email = uniqueEmail('pgfn');
    const up = await request(server.app).post('/signup').set(API_VERSION).send({ email, password });
    expect(up.status).toBe(200);
    expect(claimsOf(up.body.access_token).tenant).toBe('password');
    const signedIn = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
    expect(claimsOf(signedIn.body.access_token)).toMatchObject({ tenant: 'password', sub: up.body.user.id });
    const last = (await seen('custom_access_token')).at(-1)!;
    expect(last).toMatchObject({ user_id: up.body.user.id, claims: { sub: up.body.user.id, email }, metadata: { name: 'customize-access-token' } });
    // after user created heard of the user once its transaction committed.
    expect((await seen('after_user_created')).map((p) => (p.user as { id: string }).id)).toContain(up.body.user.id);
  });

  it('password verification attempt: the function rejects wrong passwords with its message', async () => {
    const email = uniqueEmail('pgfn');
    await request(server.app).post('/signup').set(API_VERSION).send({ email, password }).expect(200);
    const wrong = await request(server.app).post('/token?grant_type=password').set(API_VERSION).send({ email, password: 'nope-nope-1' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ code: 'invalid_credentials', message: 'Wrong again, says Postgres' });
  });

  it('before user created: an error answer refuses the sign-up; a function that raises is a 502 naming the hook, never its cause', async () => {
    const blocked = await request(server.app).post('/signup').set(API_VERSION).send({ email: uniqueEmail('x').replace('@example.com', '@blocked.test'), password });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toEqual({ code: 'unknown', message: 'Domain not allowed' });

    const boom = await request(server.app).post('/signup').set(API_VERSION).send({ email: uniqueEmail('boom'), password });
    expect(boom.status).toBe(502);
    expect(boom.body).toEqual({ code: 'unexpected_failure', message: `Error running hook URI: ${uri('after_user')}` });
    expect(JSON.stringify(boom.body)).not.toContain('exploded');
  });

  // PGlite runs inside this process and does not enforce statement_timeout (tried: the 2 s function ran to the end).
  it.skipIf(!onPostgres)('a function slower than the hook time limit is cut off by statement_timeout: a 502, not a hang', async () => {
    const started = Date.now();
    const slow = await request(server.app).post('/signup').set(API_VERSION).send({ email: uniqueEmail('slow'), password });
    expect(slow.status).toBe(502);
    expect(slow.body.message).toBe(`Error running hook URI: ${uri('before_user')}`);
    expect(Date.now() - started).toBeLessThan(1_900);
  });
});
