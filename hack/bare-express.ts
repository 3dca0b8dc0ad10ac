/**
 * The bench's floor for GET /health: a bare Express 5 app answering one small JSON object, no middleware. Used only
 * by hack/bench.ts. Env: BENCH_PORT.
 */
import express from 'express';

const app = express();
app.get('/health', (_req, res) => {
  res.json({ version: 'bench', name: 'GoTrue', description: 'GoTrue is a user registration and authentication API' });
});
const server = app.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
