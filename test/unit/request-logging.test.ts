import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../../src/http/middleware/request-context';

/** An app with the access log writing JSON lines into an array, and routes answering 200, 503 and a throw. */
function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const app = express();
  app.use(requestContext(pino({ level: 'info' }, sink), 0));
  const router = express.Router();
  router.get('/ok', (_req, res) => void res.json({ ok: true }));
  router.get('/down', (_req, res) => void res.status(503).json({}));
  app.use('/auth/v1', router);
  app.use('/', router);
  return { app, lines };
}
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('access log (requestContext)', () => {
  it('writes one line a request: id, method, path without the query, status, response time', async () => {
    const { app, lines } = appWithLog();
    const r = await request(app).get('/auth/v1/ok?access_token=secret-in-query');
    await settle();
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: r.headers['x-request-id'], method: 'GET', path: '/auth/v1/ok' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines[0])).not.toContain('secret-in-query');
  });

  it('keeps a sane X-Request-Id and replaces anything else', async () => {
    const { app, lines } = appWithLog();
    expect((await request(app).get('/ok').set('X-Request-Id', 'abc-123.def_4')).headers['x-request-id']).toBe('abc-123.def_4');
    for (const bad of ['has space', 'x'.repeat(129), 'quote"d', 'ünï']) {
      const id = (await request(app).get('/ok').set('X-Request-Id', encodeURI(bad) === bad ? bad : encodeURI(bad))).headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    await settle();
    expect(lines[0]!.req).toMatchObject({ id: 'abc-123.def_4' });
  });

  it('logs a 5xx at error level as "request errored"', async () => {
    const { app, lines } = appWithLog();
    await request(app).get('/down');
    await settle();
    expect(lines[0]).toMatchObject({ level: 50, msg: 'request errored', res: { statusCode: 503 }, err: { message: 'failed with status code 503' } });
  });
});
