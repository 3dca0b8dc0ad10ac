import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { startupErrorLines } from '../../src/cli/startup-errors';

const PASSWORD = 'pa55-w0rd-s3cret';
const onPostgres = loadConfig({
  DATABASE_URL: `postgres://auth_admin:${PASSWORD}@db.internal:6543/auth`,
  GOTRUE_JWT_SECRET: 'k3J9x2Vq8LmZ0pR7tW4yB6nC1dF5gH8jQ2sA',
  GOTRUE_SITE_URL: 'https://app.example.com',
  API_EXTERNAL_URL: 'https://auth.example.com',
  PORT: '8081',
});
const embedded = loadConfig({ GOTRUE_DB_DATA_DIR: '/srv/gotrue' });

/** An error as Node or pg raises it: a message plus fields. */
const fault = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('startup failures: one line naming the setting and the fix', () => {
  it.each([
    ['a DATABASE_URL pg cannot parse', Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL', input: '*****REDACTED*****' }), /^DATABASE_URL \(or GOTRUE_DB_DATABASE_URL\) is not a valid URL: .*percent-encoded/],
    ['a percent sign pg cannot decode', new URIError('URI malformed'), /^DATABASE_URL .* is not a valid URL/],
    ['connection refused', fault('connect ECONNREFUSED 10.0.0.5:6543', { code: 'ECONNREFUSED', syscall: 'connect', address: '10.0.0.5', port: 6543 }), /^cannot reach Postgres at db\.internal:6543: connection refused\. .*DATABASE_URL/],
    ['an unknown host', fault('getaddrinfo ENOTFOUND db.internal', { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'db.internal' }), /^cannot reach Postgres: the host "db\.internal" is unknown \(ENOTFOUND\)\. Check the host in DATABASE_URL/],
    ['a connect timeout (pg)', new Error('timeout expired'), /^cannot reach Postgres at db\.internal:6543: no answer in time .*DATABASE_URL/],
    ['a connect timeout (pool)', new Error('timeout exceeded when trying to connect'), /^cannot reach Postgres at db\.internal:6543: no answer in time/],
    ['a TCP timeout', fault('connect ETIMEDOUT 10.0.0.5:6543', { code: 'ETIMEDOUT', syscall: 'connect' }), /no answer in time \(ETIMEDOUT\)/],
    ['a wrong password', fault(`password authentication failed for user "auth_admin"`, { code: '28P01', severity: 'FATAL' }), /^Postgres at db\.internal:6543 refused the login of user "auth_admin": authentication failed \(28P01\)\. Check the user and password in DATABASE_URL/],
    ['an unknown role', fault('role "auth_admin" does not exist', { code: '28000' }), /authentication failed \(28000\)/],
    ['a missing database', fault('database "auth" does not exist', { code: '3D000' }), /^Postgres at db\.internal:6543: database "auth" does not exist\. Create it \(createdb\) or fix the database name in DATABASE_URL/],
    ['too many connections', fault('sorry, too many clients already', { code: '53300' }), /GOTRUE_DB_MAX_POOL_SIZE/],
    ['port in use', fault('listen EADDRINUSE: address already in use :::8081', { code: 'EADDRINUSE', syscall: 'listen', port: 8081 }), /^port 8081 is already in use on every interface: .*set PORT \(or GOTRUE_API_PORT\) to a free port$/],
    ['a privileged port', fault('listen EACCES: permission denied 0.0.0.0:80', { code: 'EACCES', syscall: 'listen', port: 80 }), /^not allowed to listen on port 80 \(EACCES; ports below 1024 need privileges\): set PORT/],
    ['pending migrations', new Error('the database has pending migrations (20261130120000_rate_limits): run ./gotrue migrate first'), /^the database has pending migrations .*gotrue migrate/],
  ])('%s', (_name, err, expected) => {
    const lines = startupErrorLines(err, onPostgres);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(lines[0]).not.toMatch(/\n/);
    expect(lines[0]).not.toContain(PASSWORD);
  });

  it('names GOTRUE_API_HOST when the address is not this machine’s', () => {
    const config = loadConfig({ GOTRUE_API_HOST: '10.9.9.9' });
    expect(startupErrorLines(fault('listen EADDRNOTAVAIL', { code: 'EADDRNOTAVAIL', syscall: 'listen', port: 8081 }), config)[0]).toMatch(/^GOTRUE_API_HOST "10\.9\.9\.9" is not an address of this machine/);
  });

  it.each([
    ['a file where the folder belongs', fault("EEXIST: file already exists, mkdir '/srv/gotrue'", { code: 'EEXIST', syscall: 'mkdir', path: '/srv/gotrue' }), /^GOTRUE_DB_DATA_DIR: cannot use \/srv\/gotrue: a file, not a folder, is in the way \(mkdir\)\. GOTRUE_DB_DATA_DIR must name a folder/],
    ['an unreadable secret file', fault("EACCES: permission denied, open '/srv/gotrue/jwt-secret'", { code: 'EACCES', syscall: 'open', path: '/srv/gotrue/jwt-secret' }), /^GOTRUE_DB_DATA_DIR: cannot use \/srv\/gotrue\/jwt-secret: permission denied \(open\)/],
    ['a parent it cannot create', fault("EACCES: permission denied, mkdir '/srv'", { code: 'EACCES', syscall: 'mkdir', path: '/srv' }), /^GOTRUE_DB_DATA_DIR: cannot use \/srv: permission denied/],
    ['a damaged embedded database', new Error('PGlite failed to initialize properly'), /^GOTRUE_DB_DATA_DIR: the embedded database in \/srv\/gotrue could not be opened \(PGlite failed to initialize properly\)/],
    ["PGlite's file-system error object", { name: 'ErrnoError', errno: 54 }, /^GOTRUE_DB_DATA_DIR: the embedded database in \/srv\/gotrue could not be opened \(file system error 54\)/],
  ])('embedded: %s', (_name, err, expected) => {
    const lines = startupErrorLines(err, embedded);
    expect(lines).toEqual([expect.stringMatching(expected)]);
  });

  it('gives one line per configuration problem', () => {
    const err = new ConfigError(['GOTRUE_JWT_EXP: expected a whole number ≥ 1, got "soon"', 'GOTRUE_SITE_URL: required when DATABASE_URL is set']);
    expect(startupErrorLines(err, undefined)).toEqual([
      'invalid configuration: GOTRUE_JWT_EXP: expected a whole number ≥ 1, got "soon"',
      'invalid configuration: GOTRUE_SITE_URL: required when DATABASE_URL is set',
    ]);
  });

  it('passes an unknown failure through as its first line, without the database password or a stack', () => {
    const err = new Error(`something odd with postgres://auth_admin:${PASSWORD}@db.internal:6543/auth\n    at somewhere (file.ts:1:1)`);
    expect(startupErrorLines(err, onPostgres)).toEqual(['something odd with postgres://auth_admin:***@db.internal:6543/auth']);
    expect(startupErrorLines({ weird: true }, undefined)).toEqual(['unexpected failure: {"weird":true}']);
  });
});
