/**
 * Bulk seed for the million-user bench (hack/bench.ts, BENCH_USERS) and the query-plan test: `count` users of the
 * `authenticated` audience, each with an email identity, a session and its refresh token, written by four
 * statement-level INSERT … SELECT FROM generate_series (no per-row round trips), then VACUUM ANALYZE (the planner
 * sees the tables as they are) and a CHECKPOINT. Rows look like the server's own: confirmed email users whose
 * password is `passwordHash`.
 *
 * User i: id md5('seed-user-' || i)::uuid, email seed-<i>@seed.example, created one millisecond after user i − 1.
 * Postgres only (PGlite would take the same statements, but a million rows is not what it is for).
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** The email of seeded user i (1-based). */
export const seedEmail = (i: number) => `seed-${i}@seed.example`;

/** Seeds users 1..count into the auth tables of `schema`; returns the seconds each step took. */
export async function seedUsers(client: SqlClient, schema: string, count: number, passwordHash: string): Promise<Record<string, number>> {
  const q = (name: string) => `"${schema.replace(/"/g, '""')}".${name}`;
  const took: Record<string, number> = {};
  const step = async (name: string, text: string, values: unknown[] = []) => {
    const t = performance.now();
    await client.query(text, values);
    took[name] = Math.round((performance.now() - t) / 100) / 10;
  };
  await step(
    'users',
    `insert into ${q('users')} (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, last_sign_in_at,
       raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
     select '00000000-0000-0000-0000-000000000000', md5('seed-user-' || i)::uuid, 'authenticated', 'authenticated',
       'seed-' || i || '@seed.example', $2, t, t,
       '{"provider":"email","providers":["email"]}'::jsonb,
       jsonb_build_object('full_name', 'Seed User ' || i),
       t, t, false, false
     from generate_series(1, $1::int) as i, lateral (select timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' as t) as c`,
    [count, passwordHash],
  );
  await step(
    'identities',
    `insert into ${q('identities')} (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, id)
     select u::text, u, jsonb_build_object('sub', u::text, 'email', 'seed-' || i || '@seed.example', 'email_verified', true, 'phone_verified', false),
       'email', t, t, t, md5('seed-identity-' || i)::uuid
     from generate_series(1, $1::int) as i,
       lateral (select md5('seed-user-' || i)::uuid as u, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' as t) as c`,
    [count],
  );
  await step(
    'sessions',
    `insert into ${q('sessions')} (id, user_id, created_at, updated_at, aal)
     select md5('seed-session-' || i)::uuid, md5('seed-user-' || i)::uuid, t, t, 'aal1'
     from generate_series(1, $1::int) as i, lateral (select timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' as t) as c`,
    [count],
  );
  await step(
    'refresh_tokens',
    `insert into ${q('refresh_tokens')} (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
     select '00000000-0000-0000-0000-000000000000', substr(md5('seed-token-' || i), 1, 12), md5('seed-user-' || i)::uuid::text, false, t, t, null,
       md5('seed-session-' || i)::uuid
     from generate_series(1, $1::int) as i, lateral (select timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' as t) as c`,
    [count],
  );
  await step('vacuum analyze', `vacuum analyze ${q('users')}, ${q('identities')}, ${q('sessions')}, ${q('refresh_tokens')}`);
  // Write the load's dirty pages back now, not while a measurement runs (superuser or pg_checkpoint; else skipped).
  await step('checkpoint', 'checkpoint').catch(() => undefined);
  return took;
}
