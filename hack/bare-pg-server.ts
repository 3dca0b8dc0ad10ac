/**
 * The bench's floors: a bare Node HTTP server over a pg Pool of the same size as the auth server's. No framework,
 * no validation, no logging. Used only by hack/bench.ts. Env: BENCH_DB_URL, BENCH_SCHEMA, BENCH_PORT, BENCH_POOL,
 * BENCH_SECRET (the server's HS256 secret).
 * - GET /          one primary-key SELECT of the user named by X-User-Id (no JWT);
 * - GET /jwt-1     HS256 verify of the Bearer token, then one primary-key SELECT of its `sub`;
 * - GET /jwt-3     the same verify, then three SELECTs one after another (user, identities, factors);
 * - POST /refresh  a refresh-shaped transaction on the session named by X-Session-Id: BEGIN, SELECT … FOR UPDATE,
 *                  UPDATE (revoke the live token), INSERT (its child), SELECT user, COMMIT, then an HS256 sign.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import jwt from 'jsonwebtoken';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.BENCH_DB_URL, max: Number(process.env.BENCH_POOL ?? 10) });
const schema = `"${process.env.BENCH_SCHEMA!}"`;
// The key is imported once, as the server's signer does (src/crypto/signer.ts): jsonwebtoken given a Buffer would build
// a KeyObject on every verify and sign, slowing the floor the server is measured against.
const secret = createSecretKey(Buffer.from(process.env.BENCH_SECRET ?? 'unset-secret-unset-secret-unset-secret'));
const byId = `select id, email, raw_app_meta_data, raw_user_meta_data from ${schema}.users where id = $1`;
const full = `select * from ${schema}.users where id = $1`;
const identities = `select * from ${schema}.identities where user_id = $1`;
const factors = `select * from ${schema}.mfa_factors where user_id = $1`;

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const subOf = (header: string | undefined): string => {
  const claims = jwt.verify((header ?? '').replace(/^Bearer /, ''), secret, { algorithms: ['HS256'] }) as { sub: string };
  return claims.sub;
};

async function refresh(sessionId: string): Promise<unknown> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const s = await client.query({ name: 'lock', text: `select id, user_id from ${schema}.sessions where id = $1 for update`, values: [sessionId] });
    const userId = s.rows[0].user_id as string;
    await client.query({ name: 'revoke', text: `update ${schema}.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false`, values: [sessionId] });
    const token = randomBytes(16).toString('base64url');
    await client.query({
      name: 'child',
      text: `insert into ${schema}.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, session_id) values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3)`,
      values: [token, userId, sessionId],
    });
    const u = await client.query({ name: 'full', text: full, values: [userId] });
    await client.query('commit');
    const user = u.rows[0];
    return { access_token: jwt.sign({ sub: user.id, email: user.email, session_id: sessionId, role: 'authenticated' }, secret, { algorithm: 'HS256', expiresIn: 3600 }), refresh_token: token };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const server = createServer((req, res) => {
  const fail = () => send(res, 500, {});
  const path = req.url ?? '/';
  try {
    if (path === '/jwt-1') {
      pool.query({ name: 'by-id', text: byId, values: [subOf(req.headers.authorization)] }).then((r) => send(res, r.rows.length ? 200 : 404, r.rows[0] ?? {}), fail);
    } else if (path === '/jwt-3') {
      const id = subOf(req.headers.authorization);
      (async () => {
        const u = await pool.query({ name: 'full', text: full, values: [id] });
        const i = await pool.query({ name: 'identities', text: identities, values: [id] });
        const f = await pool.query({ name: 'factors', text: factors, values: [id] });
        return { ...u.rows[0], identities: i.rows, factors: f.rows };
      })().then((body) => send(res, 200, body), fail);
    } else if (path === '/refresh') {
      req.resume();
      req.on('end', () => void refresh(String(req.headers['x-session-id'])).then((body) => send(res, 200, body), fail));
    } else {
      pool.query({ name: 'by-id', text: byId, values: [req.headers['x-user-id']] }).then((r) => send(res, r.rows.length ? 200 : 404, r.rows[0] ?? {}), fail);
    }
  } catch {
    send(res, 401, {});
  }
});
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
