/**
 * Which database failures are the database's absence rather than a bug: the error handler answers them 503
 * database_unavailable (with Retry-After) or, for a statement that ran out of time, 504 request_timeout.
 * Socket error codes are matched only on the thrown error itself (node-postgres rejects with the socket's error):
 * adapters for the outside world (SMTP, SMS, upstream providers) map their own failures before they get here.
 */
export type DatabaseFailure = 'unavailable' | 'timeout';

/** Socket errors of a Postgres that cannot be reached (or whose name cannot be resolved). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or refuses connections: 57P01 admin_shutdown (pg_terminate_backend, a
 * fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, recovery), 53300
 * too_many_connections. Class 08 (connection exception) is matched by prefix.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** 57014 query_canceled: statement_timeout (or pg_cancel_backend). */
const STATEMENT_TIMEOUT_STATE = '57014';

/** What node-postgres and pg-pool say when a connection dies, cannot be made in time, or is used after that. */
const DRIVER_MESSAGES = [
  /^Connection terminated/, // "… unexpectedly", "… due to connection timeout"
  /^timeout exceeded when trying to connect$/, // pg-pool: connectionTimeoutMillis passed waiting for a client
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Query read timeout$/,
];

/** Classifies a thrown value; undefined for anything that is not a database outage or timeout. */
export function databaseFailure(err: unknown, depth = 0): DatabaseFailure | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (e.code === STATEMENT_TIMEOUT_STATE) return 'timeout';
    if (UNAVAILABLE_STATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code) || NETWORK_CODES.has(e.code)) return 'unavailable';
  }
  if (typeof e.message === 'string' && DRIVER_MESSAGES.some((re) => re.test(e.message as string))) return 'unavailable';
  // `connect ECONNREFUSED` to a name with several addresses (localhost: ::1 and 127.0.0.1) is an AggregateError.
  if (Array.isArray(e.errors) && e.errors.some((x) => databaseFailure(x, depth + 1) === 'unavailable')) return 'unavailable';
  // No walk down `cause`: a provider's `fetch failed` carries its own ECONNREFUSED there, and is not the database.
  return undefined;
}

/** The error a bounded wait on the database (the readiness check) rejects with: classified 'unavailable'. */
export function databaseTimedOut(ms: number): Error {
  return Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}
