import { createHash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEmail, seedUsers } from '../../hack/seed-users';
import { adminHeaders } from '../helpers/admin';
import { oauthEnv } from '../helpers/oauth-server';
import { useTestApp } from '../helpers/test-app';
import { onPostgres, testDatabaseUrl } from '../helpers/test-db';
import { API_VERSION, TEST_ARGON2 } from '../helpers/test-server';

/**
 * What every per-request query costs on a seeded table (Postgres, 20,000 users with identities, sessions and refresh
 * tokens, VACUUM ANALYZE'd): each statement a request sends is recorded at the pg client, then EXPLAINed with its
 * own parameters, and no plan may read a seeded table sequentially. The same recording counts round trips.
 * Skipped on PGlite: plans are Postgres' own, and this is about the server's production database.
 */
const SEEDED = ['users', 'identities', 'sessions', 'refresh_tokens'];
const USERS = 20_000;
const PASSWORD = 'seeded-password-1';

interface Statement {
  text: string;
  values: unknown[];
}
const recorded: Statement[] = [];
let recording = false;
// Every pool connection's query goes through the prototype's (database.ts binds it per connection at connect, after
// this file has loaded), so the recorder sees each round trip as the server sends it.
const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
const original = proto.query;
proto.query = function (this: unknown, ...args: unknown[]) {
  if (recording) {
    const [a, b] = args;
    const config = typeof a === 'string' ? { text: a, values: b } : (a as { text: string; values?: unknown });
    recorded.push({ text: config.text, values: Array.isArray(config.values) ? config.values : [] });
  }
  return original.apply(this, args);
};
afterAll(() => {
  proto.query = original;
});

const { deps, app, db } = useTestApp({ env: oauthEnv({ GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED: 'true' }) });

/** The statements one request sends, in order. */
async function statementsOf(send: () => PromiseLike<{ status: number }>, status = 200): Promise<Statement[]> {
  recorded.length = 0;
  recording = true;
  try {
    expect((await send()).status).toBe(status);
  } finally {
    recording = false;
  }
  if (process.env.QUERY_PLANS_DEBUG) console.log(recorded.map((s) => s.text.replace(/\s+/g, ' ').slice(0, 90)));
  return [...recorded];
}

const RATE_LIMIT = /^\s*INSERT INTO "[a-z0-9_]+"\."rate_limits"/i;
const CONTROL = /^\s*(begin|commit|rollback|savepoint|release|set|reset|select 1)\b/i;
type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };
const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];

describe.skipIf(!onPostgres)('per-request query plans on a seeded table (postgres)', () => {
  const explainer = new pg.Client({ connectionString: testDatabaseUrl });

  /** Sequential scans of the seeded tables in the statements' plans, as "table ← first line of the SQL". */
  async function seqScans(statements: Statement[]): Promise<string[]> {
    const found: string[] = [];
    for (const s of statements.filter((x) => !CONTROL.test(x.text))) {
      const res = await explainer.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (format json) ${s.text}`, s.values);
      for (const node of nodesOf(res.rows[0]!['QUERY PLAN'][0].Plan)) {
        if (node['Node Type'] === 'Seq Scan' && SEEDED.includes(node['Relation Name'] ?? '')) found.push(`${node['Relation Name']} ← ${s.text.slice(0, 160)}`);
      }
    }
    return found;
  }

  let tokens: { access_token: string; refresh_token: string };
  beforeAll(async () => {
    await explainer.connect();
    const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, ...TEST_ARGON2 });
    await seedUsers(explainer, db.namespace, USERS, hash);
  }, 120_000);
  afterAll(() => explainer.end());

  it('password grant: five round trips (user by email, BEGIN, sign-in dates, session with its audit row, COMMIT), index scans only', async () => {
    const statements = await statementsOf(async () => {
      const r = await request(app).post('/token?grant_type=password').send({ email: seedEmail(7777), password: PASSWORD });
      tokens = r.body;
      return r;
    });
    expect(statements.filter((s) => !RATE_LIMIT.test(s.text))).toHaveLength(5);
    expect(await seqScans(statements)).toEqual([]);
  });

  it('GET /user: one round trip (user, identities, factors and session liveness in one statement), index scans only', async () => {
    const statements = await statementsOf(() => request(app).get('/user').set('Authorization', `Bearer ${tokens.access_token}`));
    expect(statements).toHaveLength(1);
    expect(await seqScans(statements)).toEqual([]);
  });

  it('refresh grant: four round trips (BEGIN, lock with the context, rotation, COMMIT), index scans only', async () => {
    const statements = await statementsOf(() => request(app).post('/token?grant_type=refresh_token').send({ refresh_token: tokens.refresh_token }));
    // The Postgres rate-limit store adds its counter's upsert (the refresh bucket); Redis or memory would not.
    expect(statements.filter((s) => !RATE_LIMIT.test(s.text))).toHaveLength(4);
    expect(await seqScans(statements)).toEqual([]);
  });

  it('OAuth refresh of a resource-bound session: the resource comes with the lock (client, BEGIN, lock, rotation, COMMIT), index scans only', async () => {
    const REDIRECT = 'https://rp.example.com/callback';
    const notes = 'https://notes.example.com/api';
    const resource = await request(app).post('/admin/oauth/resources').set(adminHeaders(deps)).send({ resource: notes, name: 'Notes', scopes: [{ name: 'notes:read' }] });
    expect(resource.status).toBe(201);
    const client = await request(app).post('/admin/oauth/clients').set(adminHeaders(deps)).send({ client_name: 'Notes app', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] });
    expect(client.status).toBe(201);
    const { client_id, client_secret } = client.body as { client_id: string; client_secret: string };
    const verifier = randomBytes(32).toString('base64url');
    const authorize = await request(app)
      .get('/oauth/authorize')
      .query({ response_type: 'code', client_id, redirect_uri: REDIRECT, scope: 'openid offline_access notes:read', resource: notes, state: 's', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' });
    expect(authorize.status).toBe(302);
    const authorizationId = new URL(authorize.headers.location!, 'http://x').searchParams.get('authorization_id')!;
    const approved = await request(app).post(`/admin/oauth/authorizations/${authorizationId}/approve`).set(adminHeaders(deps)).send({ user_id: tokensUserId() });
    expect(approved.status).toBe(200);
    const code = new URL(approved.body.redirect_uri).searchParams.get('code')!;
    const token = (body: Record<string, string>) => request(app).post('/oauth/token').auth(client_id, client_secret).type('form').send(body);
    const exchanged = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(exchanged.status).toBe(200);
    const statements = await statementsOf(() => token({ grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token }));
    if (process.env.QUERY_PLANS_DEBUG) console.log(statements.map((s) => s.text.slice(0, 200)));
    expect(statements.filter((s) => !RATE_LIMIT.test(s.text))).toHaveLength(5);
    expect(await seqScans(statements)).toEqual([]);
  });

  it('signup (six round trips: user by email, BEGIN, user, identity, session with its audit rows, COMMIT) and OTP request: index scans only', async () => {
    const signup = await statementsOf(() => request(app).post('/signup').send({ email: 'new-seeded-user@seed.example', password: PASSWORD }));
    expect(signup.filter((s) => !RATE_LIMIT.test(s.text))).toHaveLength(6);
    const otp = await statementsOf(() => request(app).post('/otp').send({ email: seedEmail(4242) }));
    // The user row is locked once.
    expect(otp.filter((s) => /for update/i.test(s.text) && /"users"/.test(s.text))).toHaveLength(1);
    expect(await seqScans([...signup, ...otp])).toEqual([]);
  });

  it('a one-time token is issued under the flow\'s own lock of the user: once for an existing user, never for one the flow creates', async () => {
    const userLocks = (statements: Statement[]) => statements.filter((s) => /for update/i.test(s.text) && /"users"/.test(s.text)).length;
    const admin = (path: string, body: object) => request(app).post(path).set(adminHeaders(deps)).send(body);
    // Created in the flow's transaction: no other transaction can see the row, so nothing locks it.
    expect(userLocks(await statementsOf(() => request(app).post('/otp').send({ email: 'otp-new-seeded@seed.example' })))).toBe(0);
    expect(userLocks(await statementsOf(() => admin('/invite', { email: 'invited-seeded@seed.example' })))).toBe(0);
    expect(userLocks(await statementsOf(() => admin('/admin/generate_link', { type: 'signup', email: 'linked-seeded@seed.example', password: PASSWORD })))).toBe(0);
    // An existing user: locked once, and the token is issued under that lock.
    expect(userLocks(await statementsOf(() => admin('/invite', { email: 'invited-seeded@seed.example' })))).toBe(1);
    expect(userLocks(await statementsOf(() => admin('/admin/generate_link', { type: 'magiclink', email: seedEmail(5151) })))).toBe(1);
    // Email change (secure: two mails, two tokens), one lock.
    const change = await statementsOf(() => request(app).put('/user').set('Authorization', `Bearer ${tokens.access_token}`).send({ email: 'changed-seeded@seed.example' }));
    expect(userLocks(change)).toBe(1);
  });

  it('admin: get by id, cursor pages (first and resumed) and page 1 with its count: index scans only', async () => {
    const admin = () => request(app).get('/admin/users').set(adminHeaders(deps)).set(API_VERSION);
    let cursor = '';
    const first = await statementsOf(async () => {
      const r = await admin().query({ limit: '50' });
      cursor = r.body.pagination.next_cursor;
      return r;
    });
    const resumed = await statementsOf(() => admin().query({ limit: '50', cursor }));
    const paged = await statementsOf(() => admin().query({ page: '3', per_page: '50' }));
    const byId = await statementsOf(() => request(app).get(`/admin/users/${tokensUserId()}`).set(adminHeaders(deps)));
    expect(await seqScans([...first, ...resumed, ...paged, ...byId])).toEqual([]);
  });

  const tokensUserId = () => JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).sub as string;
});
