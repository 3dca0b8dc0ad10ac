import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { databaseFailure, databaseTimedOut } from '../../src/db/connection-errors';
import { ApiError, internalError } from '../../src/errors/api-error';
import { ErrorCodes } from '../../src/errors/codes';
import { errorHandler, toApiError } from '../../src/http/error-handler';
import { oauthErrorName } from '../../src/http/redirect';

/** An error as node-postgres raises it for a server ErrorResponse: a SQLSTATE and a severity. */
const pgError = (code: string, message = 'from the server') => Object.assign(new Error(message), { code, severity: 'FATAL' });
/** A socket error as net raises it. */
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });

describe('database failures are told apart from bugs', () => {
  it.each([
    ['ECONNREFUSED', socketError('ECONNREFUSED')],
    ['ECONNRESET', socketError('ECONNRESET')],
    ['ETIMEDOUT', socketError('ETIMEDOUT')],
    ['ENOTFOUND (the host name does not resolve)', socketError('ENOTFOUND')],
    ['localhost refused on ::1 and 127.0.0.1 (AggregateError)', new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')])],
    ['57P01 admin_shutdown (pg_terminate_backend)', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', pgError('57P02')],
    ['57P03 cannot_connect_now (starting up)', pgError('57P03', 'the database system is starting up')],
    ['53300 too_many_connections', pgError('53300', 'sorry, too many clients already')],
    ['08006 connection_failure (class 08)', pgError('08006')],
    ['08P01 protocol_violation (class 08)', pgError('08P01')],
    ['Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['Connection terminated due to connection timeout', new Error('Connection terminated due to connection timeout')],
    ['the pool waited past its connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a client used after its connection failed', new Error('Client has encountered a connection error and is not queryable')],
    ['the readiness check ran out of time', databaseTimedOut(2000)],
  ])('%s is unavailable', (_name, err) => {
    expect(databaseFailure(err)).toBe('unavailable');
  });

  it('57014 (statement_timeout) is a timeout', () => {
    expect(databaseFailure(pgError('57014', 'canceling statement due to statement timeout'))).toBe('timeout');
  });

  it.each([
    ['a unique violation', pgError('23505')],
    ['a value too long', pgError('22001')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    // An upstream provider's fetch carries the socket error in `cause`: that is not the database.
    ['a provider that refused a fetch', new TypeError('fetch failed', { cause: socketError('ECONNREFUSED') })],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('%s is not', (_name, err) => {
    expect(databaseFailure(err)).toBeUndefined();
  });
});

describe('the error handler answers a database outage', () => {
  it('503 database_unavailable for an outage, also one a flow wrapped as an internal failure', () => {
    for (const err of [socketError('ECONNREFUSED'), pgError('57P01'), internalError('could not sign up', new Error('Connection terminated unexpectedly'))]) {
      const e = toApiError(err);
      expect([e.status, e.code]).toEqual([503, ErrorCodes.databaseUnavailable]);
      expect(e.cause).toBeDefined();
    }
  });

  it('504 request_timeout for a statement timeout', () => {
    const e = toApiError(pgError('57014'));
    expect([e.status, e.code]).toEqual([504, ErrorCodes.requestTimeout]);
  });

  it('leaves other errors as they were', () => {
    expect(toApiError(new Error('boom')).code).toBe(ErrorCodes.unexpectedFailure);
    expect(toApiError(pgError('23505')).code).toBe(ErrorCodes.conflict);
    const own = new ApiError(500, ErrorCodes.unexpectedFailure, 'x', { cause: new Error('boom') });
    expect(toApiError(own)).toBe(own);
  });

  it('redirect endpoints name it temporarily_unavailable', () => {
    expect(oauthErrorName(toApiError(socketError('ECONNRESET')))).toBe('temporarily_unavailable');
  });

  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = express();
  app.get('/down', () => {
    throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:5432'), { code: 'ECONNREFUSED', stack: 'Error: at secret/place.ts:1' });
  });
  app.get('/slow', () => {
    throw pgError('57014', 'canceling statement due to statement timeout');
  });
  app.use(errorHandler(logger));

  it('as JSON with Retry-After and no stack, in both body versions, logged as one warning with the reason', async () => {
    const current = await request(app).get('/down').set('X-Supabase-Api-Version', '2024-01-01');
    expect(current.status).toBe(503);
    expect(current.headers['retry-after']).toBe('3');
    expect(current.headers['x-sb-error-code']).toBe('database_unavailable');
    expect(current.body).toEqual({ code: 'database_unavailable', message: expect.any(String) });
    const legacy = await request(app).get('/down');
    expect(legacy.body).toEqual({ code: 503, error_code: 'database_unavailable', msg: expect.any(String), error_id: expect.any(String) });
    expect(JSON.stringify([current.body, legacy.body])).not.toMatch(/secret\/place|10\.0\.0\.9/);
    const logged = lines.filter((l) => l.msg === current.body.message);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 40, reason: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.9:5432' });
    expect(JSON.stringify(logged)).not.toMatch(/secret\/place/);
  });

  it('a statement timeout as 504 request_timeout without Retry-After', async () => {
    const r = await request(app).get('/slow').set('X-Supabase-Api-Version', '2024-01-01');
    expect([r.status, r.body.code, r.headers['retry-after']]).toEqual([504, 'request_timeout', undefined]);
  });
});
