import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

/** The lock file's name inside a data folder. */
export const LOCK_FILE = 'gotrue.lock';

/** The holder refreshes the lock file's mtime this often, so a process on another host can tell it is alive. */
const HEARTBEAT_MS = 5_000;
/**
 * A lock from another host (another container: its pids are not ours to check) counts as stale once its
 * heartbeat is this old. Four missed heartbeats: a busy event loop is not a dead process.
 */
export const FOREIGN_STALE_MS = 20_000;
/** A lock file with no readable content younger than this is one being written right now. */
const BEING_WRITTEN_MS = 5_000;

/** What the lock file holds: who has the folder open. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The pid namespace (Linux): two containers may share a hostname but never a pid namespace. */
  pid_namespace?: string;
  command: string;
  started_at: string;
  /** Random per acquisition: release removes the file only while it is still ours. */
  token: string;
}

/** A second process asked for a data folder that one process has open. The message is one line for the CLI. */
export class DataFolderInUseError extends Error {
  constructor(
    readonly folder: string,
    readonly holder: LockHolder | undefined,
    detail: string,
  ) {
    super(
      `the embedded database at ${folder} is in use by ${detail}: one process at a time may open it, so stop that ` +
        `process first, or while it runs manage users through its admin API (POST /admin/users with the service_role key)`,
    );
    this.name = 'DataFolderInUseError';
  }
}

export interface DataFolderLock {
  readonly folder: string;
  readonly holder: LockHolder;
  /** Removes the lock file (when still ours) and stops the heartbeat. Idempotent. */
  release(): void;
}

const held = new Set<DataFolderLock>();
let exitHookInstalled = false;

/**
 * Takes the single-writer lock on an embedded data folder (which must exist), or throws DataFolderInUseError.
 *
 * The lock is a file created exclusively (`wx`) holding pid, host, command and start time. An existing lock is
 * stale, and replaced, when its process is gone: on this host (same hostname and pid namespace) when its pid is
 * dead or is our own pid (a restarted container's process often gets the pid its predecessor had), so a restart
 * right after SIGKILL takes it at once; from another host when its heartbeat (the file's mtime) is older than
 * FOREIGN_STALE_MS. It is released by `release()` and, failing that, when the process exits.
 */
export function lockDataFolder(folder: string): DataFolderLock {
  const file = join(folder, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    ...(pidNamespace() ? { pid_namespace: pidNamespace() } : {}),
    command: commandLabel(),
    started_at: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(file, me)) break;
    const existing = readHolder(file);
    if (existing === 'gone') continue; // released between our attempt and the read: try again
    const verdict = judge(existing, me, file);
    if (verdict.held || attempt >= 3) throw new DataFolderInUseError(folder, existing.holder, verdict.detail);
    removeIfUnchanged(file, existing.raw);
  }

  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // The file went away (someone removed it by hand): nothing to refresh; release() copes.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const lock: DataFolderLock = {
    folder,
    holder: me,
    release() {
      if (!held.delete(lock)) return;
      clearInterval(heartbeat);
      const current = readHolder(file);
      if (current !== 'gone' && current.holder?.token === me.token) removeIfUnchanged(file, current.raw);
    },
  };
  held.add(lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}

function tryCreate(file: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(me) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

interface Existing {
  raw: string;
  holder: LockHolder | undefined;
  mtimeMs: number;
}

function readHolder(file: string): Existing | 'gone' {
  try {
    const mtimeMs = statSync(file).mtimeMs;
    const raw = readFileSync(file, 'utf8');
    return { raw, holder: parseHolder(raw), mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') {
      return { command: '', started_at: '', ...v } as LockHolder;
    }
  } catch {
    // fall through: not a lock this code wrote, or one still being written
  }
  return undefined;
}

/** Whether an existing lock is held, and a description of its holder for the refusal. */
function judge(existing: Existing, me: LockHolder, file: string): { held: boolean; detail: string } {
  const h = existing.holder;
  const age = Date.now() - existing.mtimeMs;
  if (!h) {
    return { held: age < BEING_WRITTEN_MS, detail: `another process (${file} has no readable owner; if no gotrue runs on this folder, delete that file)` };
  }
  const who = `pid ${h.pid} (${h.command || 'unknown command'}, started ${h.started_at || 'at an unknown time'}`;
  const sameHost = h.host === me.host && h.pid_namespace === me.pid_namespace;
  if (sameHost) {
    if (h.pid === me.pid) {
      // Ours only if this process holds it (a second open in one process); else a predecessor that had our pid.
      const ours = [...held].some((l) => l.holder.token === h.token);
      return { held: ours, detail: `this very process, ${who})` };
    }
    return { held: isAlive(h.pid), detail: `${who})` };
  }
  const seconds = Math.round(age / 1000);
  return {
    held: age < FOREIGN_STALE_MS,
    detail: `${who} on host ${h.host}, last alive ${seconds}s ago; counted as stopped after ${FOREIGN_STALE_MS / 1000}s without a heartbeat)`,
  };
}

/**
 * Removes the lock file only if it still holds what we read. It is renamed aside first (atomic), so of two
 * processes clearing one stale lock at once only one removes it; should the renamed file turn out to be a
 * newcomer's fresh lock, it is linked back in place (link never overwrites).
 */
function removeIfUnchanged(file: string, raw: string): void {
  const aside = `${file}.${randomBytes(6).toString('hex')}.old`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (readFileSync(aside, 'utf8') !== raw) {
      try {
        linkSync(aside, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    unlinkSync(aside);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let namespace: string | undefined | null = null;
function pidNamespace(): string | undefined {
  if (namespace === null) {
    try {
      namespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      namespace = undefined;
    }
  }
  return namespace;
}

/**
 * What the holder runs, for the refusal: `gotrue serve`, `gotrue admin createuser`. Only the first two arguments:
 * later ones can be secrets (`admin createuser <email> <password>`).
 */
function commandLabel(): string {
  const [, script = '', ...args] = process.argv;
  const name = /(^|\/)main\.[jt]s$/.test(script) ? 'gotrue' : basename(script);
  return [name, ...args.slice(0, 2).filter((a) => !a.startsWith('-'))].join(' ');
}
