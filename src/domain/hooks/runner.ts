import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { HookConfig, HookKind, HooksConfig } from '../../config/hooks';
import type { Clock, Random } from '../../crypto/clock';
import type { Db } from '../../db/database';
import { databaseFailure } from '../../db/connection-errors';
import { callHookFunction } from '../../db/repositories/hook-functions';
import { ApiError } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import type { Metrics } from '../../observability/metrics';

/**
 * The one hook runner (GoTrue's v0hooks.Manager with its hookshttp and hookspgfunc dispatchers). Every auth hook
 * goes through `run`: the input gets GoTrue's `metadata`, is sent to an HTTP(S) endpoint signed with Standard
 * Webhooks or to a Postgres function, and the answer comes back as a JSON object — or as GoTrue's error:
 *
 * - HTTP: one deadline (5 s) over all attempts; up to 3 attempts, 2 s apart, when the endpoint cannot be reached;
 *   the deadline passing is 422 hook_timeout, running out of attempts 422 hook_timeout_after_retry; 204 is an empty
 *   answer; 200/202 must be application/json (else 400 hook_payload_invalid_content_type) of at most 200 KB (else
 *   422 hook_payload_over_size_limit); 429/503 with Retry-After try again; any other status is a 502 (GoTrue: 500).
 * - Postgres: `select "schema"."function"($1)` under a 2 s statement_timeout in its own transaction, so a hook never
 *   holds the caller's (every caller runs it outside the flow's transaction); a database error is a 502 (GoTrue: 500).
 * - Either way an answer `{ "error": { "http_code", "message" } }` with a message is that error (502 when the code is
 *   missing or 500), and an answer that is not a JSON object is 502 "Error unmarshaling JSON output.".
 */
export interface HookRunner {
  enabled(kind: HookKind): boolean;
  /** Runs an enabled hook; resolves to its answer ({} when it answered nothing). `ip` goes into the metadata. */
  run(kind: HookKind, input: Record<string, unknown>, ip?: string): Promise<Record<string, unknown>>;
}

/** Limits, GoTrue's by default; tests shorten them. */
export interface HookRunnerOptions {
  httpTimeoutMs: number;
  httpBackoffMs: number;
  httpAttempts: number;
  responseLimitBytes: number;
  pgTimeoutMs: number;
}

export const DEFAULT_HOOK_OPTIONS: HookRunnerOptions = {
  httpTimeoutMs: 5_000,
  httpBackoffMs: 2_000,
  httpAttempts: 3,
  responseLimitBytes: 200 * 1024,
  pgTimeoutMs: 2_000,
};

/** The `metadata.name` GoTrue sends for each kind. */
const METADATA_NAME: Record<HookKind, string> = {
  custom_access_token: 'customize-access-token',
  send_email: 'send-email',
  send_sms: 'send-sms',
  mfa_verification_attempt: 'mfa-verification',
  password_verification_attempt: 'password-verification',
  before_user_created: 'before-user-created',
  after_user_created: 'after-user-created',
};

export interface HookRunnerDeps {
  hooks: HooksConfig;
  db: Db;
  fetch: typeof globalThis.fetch;
  clock: Clock;
  random: Random;
  logger: Logger;
  options?: Partial<HookRunnerOptions>;
  /** Counts each call by kind and outcome, with its duration (GOTRUE_METRICS_ENABLED). */
  metrics?: Pick<Metrics, 'hook'>;
}

/**
 * A hook that misbehaves (unexpected status, unparseable answer, unreachable, a function that raises) fails the request
 * with GoTrue's error code and message, but as 502 Bad Gateway rather than GoTrue's 500: the fault is the hook's, not
 * this server's (a 500 here always means a bug of ours), and auth-js treats 502 as retryable, so a flaky
 * custom-access-token hook does not sign a user out on refresh.
 */
export const hookFailure = (message: string, cause?: unknown) => new ApiError(502, ErrorCodes.unexpectedFailure, message, { cause });

/**
 * A hook URI as logs and error messages show it: without userinfo, query or fragment, where an operator may have put
 * a credential (GoTrue prints the whole URI, also to the client).
 */
function shownUri(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparsable hook URI)';
  }
}

export function createHookRunner(d: HookRunnerDeps): HookRunner {
  const opts = { ...DEFAULT_HOOK_OPTIONS, ...d.options };
  return {
    enabled: (kind) => d.hooks[kind] !== undefined,
    async run(kind, input, ip) {
      const target = d.hooks[kind];
      if (!target) throw new Error(`hook ${kind} is not enabled`);
      const metadata = { uuid: d.random.uuid(), time: d.clock.now().toISOString(), name: METADATA_NAME[kind], ...(ip ? { ip_address: ip } : {}) };
      const payload = JSON.stringify({ metadata, ...input });
      const started = performance.now();
      try {
        const answer = target.transport === 'http' ? await runHttp(d, opts, target, payload) : await runPgFunction(d, opts, target, payload);
        d.metrics?.hook(kind, 'success', (performance.now() - started) / 1000);
        d.logger.info({ action: 'run_hook', hook: kind, uri: shownUri(target.uri), success: true, duration_ms: Math.round(performance.now() - started) }, 'Hook ran successfully');
        return answer;
      } catch (err) {
        d.metrics?.hook(kind, 'failure', (performance.now() - started) / 1000);
        const e = err instanceof ApiError ? err : hookFailure(`Error running hook URI: ${shownUri(target.uri)}`, err);
        d.logger.warn({ action: 'run_hook', hook: kind, uri: shownUri(target.uri), success: false, duration_ms: Math.round(performance.now() - started), error: e.message, err: e.cause }, 'Hook errored out');
        throw e;
      }
    },
  };
}

/** An answer's text → its JSON object; GoTrue's hookserrors.Check first. */
function answerOf(text: string | null): Record<string, unknown> {
  if (text === null || text.trim() === '' || text.trim() === 'null') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw hookFailure('Error unmarshaling JSON output.', cause);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw hookFailure('Error unmarshaling JSON output.');
  const answer = parsed as Record<string, unknown>;
  const error = answer.error as { http_code?: unknown; message?: unknown } | null | undefined;
  if (error && typeof error === 'object' && typeof error.message === 'string' && error.message !== '') {
    const code = typeof error.http_code === 'number' && Number.isInteger(error.http_code) && error.http_code !== 0 ? error.http_code : 500;
    // GoTrue passes any code through (500 when none); an HTTP answer needs a real error status, and a 500 from this
    // server means a bug of its own, so a missing, 500 or out-of-range code is a 502 (see hookFailure).
    const passed = code >= 400 && code <= 599 && code !== 500;
    throw new ApiError(passed ? code : 502, passed ? ErrorCodes.unknown : ErrorCodes.unexpectedFailure, error.message);
  }
  return answer;
}

async function runPgFunction(d: HookRunnerDeps, opts: HookRunnerOptions, target: Extract<HookConfig, { transport: 'pg-functions' }>, payload: string) {
  let result: unknown;
  try {
    result = await callHookFunction(d.db, { schema: target.schema, name: target.name, payload, timeoutMs: opts.pgTimeoutMs });
  } catch (err) {
    // A database that is down stays the outage it is (503); anything else — the function raised, or ran past its
    // statement_timeout — is the hook's failure, GoTrue's 500, not this request's own database timeout.
    if (databaseFailure(err) === 'unavailable') throw hookFailure(`Error running hook URI: ${shownUri(target.uri)}`, err);
    throw hookFailure(`Error running hook URI: ${shownUri(target.uri)}`, new Error(`hook function failed: ${(err as Error).message}`, { cause: err }));
  }
  return answerOf(result === null ? null : typeof result === 'string' ? result : JSON.stringify(result));
}

async function runHttp(d: HookRunnerDeps, opts: HookRunnerOptions, target: Extract<HookConfig, { transport: 'http' }>, payload: string) {
  const deadline = AbortSignal.timeout(opts.httpTimeoutMs);
  const timedOut = () =>
    new ApiError(422, ErrorCodes.hookTimeout, `Failed to reach hook within maximum time of ${(opts.httpTimeoutMs / 1000).toFixed(6)} seconds`);
  // The secrets were validated at startup (v1,whsec_…); the library takes the whsec_ part.
  const signers = target.secrets.map((s) => new Webhook(s.slice('v1,'.length)));
  for (let attempt = 0; attempt < opts.httpAttempts; attempt++) {
    const id = d.random.uuid();
    const now = d.clock.now();
    let res: Response;
    try {
      res = await d.fetch(target.uri, {
        method: 'POST',
        body: payload,
        signal: deadline,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signers.map((w) => w.sign(id, now, payload)).join(', '),
          'accept-encoding': 'identity',
        },
      });
    } catch (cause) {
      if (deadline.aborted) throw timedOut();
      if (attempt < opts.httpAttempts - 1) {
        d.logger.warn({ hook_uri: shownUri(target.uri), attempt, err: cause }, 'hook unreachable; retrying');
        if (!(await sleep(opts.httpBackoffMs, deadline))) throw timedOut();
        continue;
      }
      throw new ApiError(422, ErrorCodes.hookTimeoutAfterRetry, 'Failed to reach hook after maximum retries', { cause });
    }
    if (res.status === 204) {
      await res.body?.cancel();
      return {};
    }
    if (res.status === 200 || res.status === 202) {
      const type = res.headers.get('content-type');
      const problem = contentTypeProblem(type);
      if (problem) {
        await res.body?.cancel();
        throw new ApiError(400, ErrorCodes.hookPayloadInvalidContentType, problem);
      }
      let text: string;
      try {
        text = await readLimited(res, opts.responseLimitBytes);
      } catch (cause) {
        if (cause instanceof ApiError) throw cause;
        if (deadline.aborted) throw timedOut();
        throw hookFailure('Error reading the hook response', cause);
      }
      return answerOf(text);
    }
    await res.body?.cancel();
    if (res.status === 429 || res.status === 503) {
      if (res.headers.get('retry-after')) continue;
      throw hookFailure('Service currently unavailable due to hook');
    }
    if (res.status === 400) throw hookFailure('Invalid payload sent to hook');
    if (res.status === 401) throw hookFailure('Hook requires authorization token');
    throw hookFailure(`Unexpected status code returned from hook: ${res.status}`);
  }
  throw hookFailure('Service currently unavailable due to hook');
}

/** GoTrue's checks on a 200/202 answer's Content-Type; undefined when it is application/json. */
function contentTypeProblem(type: string | null): string | undefined {
  if (!type) return 'Invalid Content-Type: Missing Content-Type header';
  const media = type.split(';')[0]!.trim().toLowerCase();
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(media)) return `Invalid Content-Type header: ${type}`;
  if (media !== 'application/json') return `Invalid JSON response. Received content-type: ${type}`;
  return undefined;
}

/** Reads at most `limit` bytes; more is 422 hook_payload_over_size_limit. */
async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ApiError(422, ErrorCodes.hookPayloadOverSizeLimit, `Payload size exceeded size limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits `ms`; false when the deadline passes first. */
function sleep(ms: number, deadline: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (deadline.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      deadline.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    deadline.addEventListener('abort', onAbort, { once: true });
  });
}
