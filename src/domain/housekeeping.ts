import { cleanupStatements, tryCleanupLock } from '../db/repositories/cleanup';
import type { Deps } from '../deps';

/**
 * Housekeeping (GOTRUE_DB_CLEANUP_*): deletes what can no longer be used — revoked refresh tokens, ended, timeboxed
 * and inactive sessions (their tokens and AMR claims by cascade), flow states, OAuth client states, MFA challenges,
 * abandoned unverified factors, expired one-time tokens — once it has been dead for RETENTION_MS, as GoTrue's
 * cleanup does. Each batch is its own short transaction holding the housekeeping advisory lock, so only one server
 * (or worker) cleans at a time and no table is locked for long; on PGlite the data folder's lock already makes the
 * process the only one.
 */

/** How long a dead row is kept (GoTrue: 24 hours). */
export const RETENTION_MS = 24 * 60 * 60 * 1000;
/** Batches of one statement per round at most; the next round goes on. */
const MAX_BATCHES = 10;

export interface CleanupReport {
  /** Rows deleted per statement. */
  deleted: Record<string, number>;
  /** Transactions run (one per batch). */
  batches: number;
  /** False when another server held the lock: this round did nothing. */
  ran: boolean;
}

/** One round: each statement in batches of GOTRUE_DB_CLEANUP_BATCH_SIZE until it finds less than a full batch. */
export async function cleanupOnce(deps: Pick<Deps, 'db' | 'clock' | 'config'>): Promise<CleanupReport> {
  const now = deps.clock.now().getTime();
  const { sessions, mailer, sms, cleanup } = deps.config;
  const tokenLifeMs = Math.max(mailer.otpExpSeconds, sms.otpExp) * 1000;
  const statements = cleanupStatements({
    retireBefore: new Date(now - RETENTION_MS),
    tokensIssuedBefore: new Date(now - tokenLifeMs - RETENTION_MS),
    sessionsStartedBefore: sessions.timeboxMs > 0 ? new Date(now - sessions.timeboxMs - RETENTION_MS) : undefined,
    sessionsIdleSince: sessions.inactivityTimeoutMs > 0 ? new Date(now - sessions.inactivityTimeoutMs - RETENTION_MS) : undefined,
  });
  const report: CleanupReport = { deleted: {}, batches: 0, ran: true };
  for (const statement of statements) {
    report.deleted[statement.name] = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await deps.db.transaction().execute(async (trx) => ((await tryCleanupLock(trx)) ? statement.run(trx, cleanup.batchSize) : -1));
      if (n < 0) return { ...report, ran: false };
      report.batches++;
      report.deleted[statement.name] = (report.deleted[statement.name] ?? 0) + n;
      if (n < cleanup.batchSize) break;
    }
  }
  return report;
}

export interface Housekeeper {
  /** Stops the loop; resolves when a round in progress has finished. */
  stop(): Promise<void>;
}

/** Runs cleanupOnce every GOTRUE_DB_CLEANUP_INTERVAL (first round after one interval) until stopped. */
export function startHousekeeping(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'logger'>): Housekeeper {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    try {
      const r = await cleanupOnce(deps);
      const total = Object.values(r.deleted).reduce((a, b) => a + b, 0);
      if (total > 0) deps.logger.info({ cleanup: r.deleted }, `housekeeping deleted ${total} rows`);
    } catch (err) {
      deps.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'housekeeping round failed; retrying next interval');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(schedule);
    }, deps.config.cleanup.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
