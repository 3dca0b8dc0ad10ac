import { createRequire } from 'node:module';
import type * as IoRedisModule from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config';
import type { RateLimitStoreKind } from '../config/config';
import type { DatabaseHandle } from '../db/database';
import { deleteExpiredRateLimits, rateLimitSqlClient } from '../db/repositories/rate-limits';

/** What a limiter answers for one event. */
export type Verdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface Limiter {
  /** Counts one event against `key`. Never rejects: a store that fails answers from the per-process fallback. */
  consume(key: string): Promise<Verdict>;
  /**
   * Gives back one event counted against `key`: for limits that count failures only (a wrong API key), every attempt
   * is consumed first — so parallel attempts cannot slip past the count — and one that did not fail is refunded.
   * Never rejects; a store that fails refunds nothing.
   */
  refund(key: string): Promise<void>;
}

/**
 * Where rate-limit counters live (GOTRUE_RATE_LIMIT_STORE): `postgres` (the `rate_limits` table of the auth
 * namespace) and `redis` share every count between the processes and instances using them; `memory` counts per
 * process, which is right for the embedded database's single process only.
 */
export interface RateLimitStore {
  readonly kind: RateLimitStoreKind;
  /**
   * The limiter called `name`: at most `points` events per key in each fixed window of `windowSeconds`, its keys
   * apart from every other limiter's. Built once per name; a later call with the same name gets the same limiter.
   */
  limiter(name: string, points: number, windowSeconds: number): Limiter;
  /** Releases the store's connection (Redis); the store is not used afterwards. */
  close(): Promise<void>;
}

/** Expired Postgres counters are deleted at most this often per process. */
type IoRedis = typeof IoRedisModule;

const SWEEP_INTERVAL_MS = 5 * 60_000;
/** A Redis command unanswered this long counts as a store failure (the request then uses the fallback). */
const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** At start, requests wait at most this long for Redis to connect before using the fallback. */
const REDIS_FIRST_CONNECT_WAIT_MS = 1_000;

interface LimiterOptions {
  keyPrefix: string;
  points: number;
  duration: number;
}

/** Built once, in deps, from the config. */
export function createRateLimitStore(config: Config, database: DatabaseHandle, logger: Logger): RateLimitStore {
  const { store: kind, keyPrefix } = config.rateLimit;
  const outage = outageLog(logger, kind);
  const limiters = new Map<string, Limiter>();

  let backend: (o: LimiterOptions) => RateLimiterAbstract;
  let beforeConsume: () => Promise<void> = async () => {};
  let afterConsume: () => void = () => {};
  let close = async () => {};

  if (kind === 'postgres') {
    const client = rateLimitSqlClient(database.root);
    backend = (o) =>
      new RateLimiterPostgres({
        ...o,
        storeClient: client,
        storeType: 'client',
        schemaName: database.namespace,
        tableName: 'rate_limits',
        // The table comes from a migration; expired rows are swept below, once per process, not once per limiter.
        tableCreated: true,
        clearExpiredByTimeout: false,
        // Once a key is over its limit, this process refuses it until the window ends without asking the table.
        inMemoryBlockOnConsumed: o.points + 1,
      });
    let nextSweep = Date.now() + SWEEP_INTERVAL_MS;
    afterConsume = () => {
      const now = Date.now();
      if (now < nextSweep) return;
      nextSweep = now + SWEEP_INTERVAL_MS;
      deleteExpiredRateLimits(database.db, now).catch((err: unknown) => logger.debug({ err }, 'rate limits: sweeping expired counters failed'));
    };
  } else if (kind === 'redis') {
    // Loaded only here: ioredis costs about 0.1 s of CPU at start-up, and only this store uses it (CommonJS, so a
    // synchronous require keeps this constructor synchronous).
    const { Redis } = createRequire(import.meta.url)('ioredis') as IoRedis;
    const redis = new Redis(config.rateLimit.redisUrl!, {
      // Commands fail at once while Redis is unreachable instead of queueing, so requests fall back without delay.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    });
    // Reconnection is ioredis's own (backoff up to 2 s); the warning comes once from the fallback, not per retry.
    redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'rate limits: redis connection error'));
    const firstAnswer = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REDIS_FIRST_CONNECT_WAIT_MS);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', done);
      redis.once('error', done);
      redis.once('end', done);
    });
    beforeConsume = () => firstAnswer;
    backend = (o) => new RateLimiterRedis({ ...o, storeClient: redis, rejectIfRedisNotReady: true, inMemoryBlockOnConsumed: o.points + 1 });
    close = async () => redis.disconnect();
  } else {
    backend = (o) => new RateLimiterMemory(o);
  }

  return {
    kind,
    limiter(name, points, windowSeconds) {
      const existing = limiters.get(name);
      if (existing) return existing;
      const o: LimiterOptions = {
        keyPrefix: `${keyPrefix}:${name}`,
        points: Math.max(1, Math.floor(points)),
        duration: Math.max(1, Math.ceil(windowSeconds)),
      };
      const primary = backend(o);
      const fallback = kind === 'memory' ? undefined : new RateLimiterMemory(o);
      const limiter: Limiter = {
        async consume(key) {
          try {
            await beforeConsume();
            await primary.consume(key);
            outage.over();
            return { allowed: true };
          } catch (err) {
            if (err instanceof RateLimiterRes) {
              outage.over();
              return refused(err);
            }
            if (!fallback) throw err;
            outage.started(err);
            return fallback.consume(key).then(() => ({ allowed: true }) as const, refusedOrThrow);
          } finally {
            afterConsume();
          }
        },
        async refund(key) {
          try {
            await beforeConsume();
            await primary.reward(key, 1);
          } catch {
            await fallback?.reward(key, 1).catch(() => undefined);
          }
        },
      };
      limiters.set(name, limiter);
      return limiter;
    },
    close,
  };
}

const refused = (res: RateLimiterRes): Verdict => ({ allowed: false, retryAfterMs: Math.max(0, res.msBeforeNext) });

function refusedOrThrow(err: unknown): Verdict {
  if (err instanceof RateLimiterRes) return refused(err);
  throw err;
}

/**
 * One warning when the shared store stops answering (limits are then per process) and one line when it answers
 * again: an outage is logged once, not once per request.
 */
function outageLog(logger: Logger, kind: RateLimitStoreKind) {
  let down = false;
  return {
    started(err: unknown) {
      if (down) return;
      down = true;
      logger.warn({ err, store: kind }, 'rate limits: the store is unreachable; counting per process until it answers again');
    },
    over() {
      if (!down) return;
      down = false;
      logger.info({ store: kind }, 'rate limits: the store answers again; counts are shared again');
    },
  };
}
