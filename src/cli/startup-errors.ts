import { relative, resolve, sep } from 'node:path';
import { ConfigError, type Config } from '../config';

/** What the mapping knows about the configuration; undefined when the configuration itself failed to load. */
export type StartupContext = Pick<Config, 'db' | 'api'> | undefined;

/** The settings an operator fixes, by the names they are read under (first name wins, as in load-config.ts). */
const DATABASE_URL = 'DATABASE_URL (or GOTRUE_DB_DATABASE_URL)';
const PORT = 'PORT (or GOTRUE_API_PORT)';
const DATA_DIR = 'GOTRUE_DB_DATA_DIR';

type NodeError = Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number; hostname?: string; path?: string };

/**
 * Turns anything that stopped `./gotrue <command>` before it could serve or finish into the lines printed on
 * stderr: one line per problem, each naming the setting to change and how, never a stack trace, never a secret
 * (the database URL's password, the JWT secret). A ConfigError gives one line per configuration problem; every
 * other failure gives exactly one line. Unknown errors keep their message's first line.
 */
export function startupErrorLines(err: unknown, context: StartupContext): string[] {
  if (err instanceof ConfigError) return err.problems.map((p) => `invalid configuration: ${p}`);
  return [oneLine(describe(err, context))];
}

function describe(err: unknown, context: StartupContext): string {
  if (!(err instanceof Error)) return describeNonError(err, context);
  const e = err as NodeError;
  const dbUrl = context?.db.url;

  // pg parses DATABASE_URL when it first connects (new URL, then decodeURIComponent on the user and password).
  if (dbUrl && (e.code === 'ERR_INVALID_URL' || err instanceof URIError)) {
    return `${DATABASE_URL} is not a valid URL: expected postgres://user:password@host:5432/database, with any @ : / % # ? in the user or password percent-encoded (e.g. @ as %40)`;
  }

  if (e.syscall === 'listen' && context) return describeListen(e, context);

  if (dbUrl) {
    const where = databaseHost(dbUrl);
    const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
    if (e.code === 'ECONNREFUSED') {
      return `cannot reach Postgres at ${where}: connection refused. Is Postgres running there? Check the host and port in ${DATABASE_URL}`;
    }
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
      return `cannot reach Postgres: the host "${e.hostname ?? where}" is unknown (${e.code}). Check the host in ${DATABASE_URL}`;
    }
    if (e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || /timeout|timed out/i.test(err.message)) {
      return `cannot reach Postgres at ${where}: no answer in time (${e.code ?? 'timeout'}). Check the host and port in ${DATABASE_URL}, and that no firewall drops the connection`;
    }
    if (e.code === 'ECONNRESET' || /Connection terminated unexpectedly/i.test(err.message)) {
      return `Postgres at ${where} closed the connection while connecting: check the port in ${DATABASE_URL} points at Postgres, and its sslmode`;
    }
    if (/does not support SSL|SSL/i.test(err.message) && !sqlState) {
      return `Postgres at ${where}: SSL negotiation failed (${err.message}). Set or remove sslmode in ${DATABASE_URL} to match the server`;
    }
    if (sqlState === '28P01' || sqlState === '28000') {
      const user = databaseUser(dbUrl);
      return `Postgres at ${where} refused the login${user ? ` of user "${user}"` : ''}: authentication failed (${sqlState}). Check the user and password in ${DATABASE_URL} (and pg_hba.conf)`;
    }
    if (sqlState === '3D000') {
      return `Postgres at ${where}: ${err.message}. Create it (createdb) or fix the database name in ${DATABASE_URL}`;
    }
    if (sqlState === '57P03') return `Postgres at ${where} is starting up or shutting down (${sqlState}): try again in a moment`;
    if (sqlState === '53300') return `Postgres at ${where} has no free connection slots (${sqlState}): lower GOTRUE_DB_MAX_POOL_SIZE or raise max_connections`;
  }

  if (!dbUrl && context && isDataDirError(e, context)) return describeDataDir(e, context);
  return withoutPassword(err.message || err.name, dbUrl);
}

/** PGlite's file-system errors are plain objects ({ name: 'ErrnoError', errno }); anything else is unknown. */
function describeNonError(err: unknown, context: StartupContext): string {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (name === 'ErrnoError' && context && !context.db.url) {
    const errno = (err as { errno?: unknown }).errno;
    return `${DATA_DIR}: the embedded database in ${dataDirOf(context)} could not be opened (file system error ${String(errno)}). ${DATA_DIR_FIX}`;
  }
  if (typeof err === 'string') return withoutPassword(err, context?.db.url);
  try {
    return withoutPassword(`unexpected failure: ${JSON.stringify(err)}`, context?.db.url);
  } catch {
    return 'unexpected failure';
  }
}

const DATA_DIR_FIX = `${DATA_DIR} must name a folder this user can read and write, holding only what gotrue put there (point it at a new folder to start afresh)`;

function describeListen(e: NodeError, context: Pick<Config, 'api'>): string {
  const port = e.port ?? context.api.port;
  const host = context.api.host || 'every interface';
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use on ${host}: stop the process using it, or set ${PORT} to a free port`;
    case 'EACCES':
    case 'EPERM':
      return `not allowed to listen on port ${port} (${e.code}; ports below 1024 need privileges): set ${PORT} to 1024 or above (default 8081) and put a proxy in front, or grant CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `GOTRUE_API_HOST "${context.api.host}" is not an address of this machine (${e.code}): set it to one of this machine's addresses, or leave it empty for every interface`;
    default:
      return `cannot listen on ${host} port ${port} (${e.code ?? e.message}): check GOTRUE_API_HOST and ${PORT}`;
  }
}

/** A file-system error on a path inside the embedded data folder (or the folder itself). */
function isDataDirError(e: NodeError, context: Pick<Config, 'db'>): boolean {
  if (/PGlite/i.test(e.message)) return true;
  if (!e.path || !e.syscall) return false;
  const dir = dataDirOf(context);
  const path = resolve(e.path);
  return path === dir || path.startsWith(dir + sep) || dir.startsWith(path + sep);
}

function describeDataDir(e: NodeError, context: Pick<Config, 'db'>): string {
  const dir = dataDirOf(context);
  if (!e.code) {
    return `${DATA_DIR}: the embedded database in ${dir} could not be opened (${e.message}): is ${dir}/pgdata from another program or damaged? ${DATA_DIR_FIX}`;
  }
  const rel = e.path ? relative(dir, resolve(e.path)) : '';
  const what = rel === '' ? dir : rel.startsWith('..') ? resolve(e.path!) : `${dir}/${rel}`;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EEXIST: 'a file, not a folder, is in the way',
    ENOTDIR: 'a file, not a folder, is in the way',
    EISDIR: 'a folder where a file belongs',
    ENOSPC: 'no space left on the device',
  };
  return `${DATA_DIR}: cannot use ${what}: ${reasons[e.code] ?? e.code} (${e.syscall}). ${DATA_DIR_FIX}`;
}

const dataDirOf = (context: Pick<Config, 'db'>) => resolve(context.db.dataDir);

/** host:port of a database URL, for messages; never the user or password. */
function databaseHost(url: string): string {
  try {
    const u = new URL(url);
    const host = decodeURIComponent(u.hostname) || 'localhost';
    return `${host}:${u.port || '5432'}`;
  } catch {
    return 'the host in DATABASE_URL';
  }
}

function databaseUser(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}

/** An unknown error's message passes through, but never with the database password in it. */
function withoutPassword(line: string, url: string | undefined): string {
  let password = '';
  try {
    password = url ? new URL(url).password : '';
  } catch {
    password = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(url ?? '')?.[1] ?? '';
  }
  if (!password) return line;
  let out = line.split(password).join('***');
  try {
    out = out.split(decodeURIComponent(password)).join('***');
  } catch {
    // not percent-decodable: the raw form is already hidden
  }
  return out;
}

/** Control characters and line breaks out: the message is exactly one line. */
function oneLine(s: string): string {
  const first = s.split(/\r?\n/)[0]!;
  return [...first].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('').trim() || 'unexpected failure';
}
