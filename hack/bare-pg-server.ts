/**
 * The bench's floor: a bare Node HTTP server doing one primary-key SELECT per request over a pg Pool of the same
 * size as the auth server's. No framework, no JWT, no JSON validation. Used only by hack/bench.ts.
 * Env: BENCH_DB_URL, BENCH_SCHEMA, BENCH_PORT, BENCH_POOL.
 */
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.BENCH_DB_URL, max: Number(process.env.BENCH_POOL ?? 10) });
const schema = process.env.BENCH_SCHEMA!;
const text = `select id, email, raw_app_meta_data, raw_user_meta_data from "${schema}".users where id = $1`;

const server = createServer((req, res) => {
  const id = req.headers['x-user-id'];
  pool.query({ name: 'by-id', text, values: [id] }).then(
    (r) => {
      res.writeHead(r.rows.length ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.rows[0] ?? {}));
    },
    () => {
      res.writeHead(500);
      res.end();
    },
  );
});
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
