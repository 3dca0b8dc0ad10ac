import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFolderInUseError, FOREIGN_STALE_MS, LOCK_FILE, lockDataFolder, type LockHolder } from '../../src/db/data-folder-lock';
import { openDatabase } from '../../src/db/database';
import { useTempDirs } from '../helpers/temp-dirs';

const folder = useTempDirs('gotrue-lock-');

const lockFile = (dir: string) => join(dir, LOCK_FILE);
const readLock = (dir: string) => JSON.parse(readFileSync(lockFile(dir), 'utf8')) as LockHolder;
/** The holder fields this host writes, so a planted lock reads as from this host unless a test changes them. */
const here = () => {
  const probe = folder();
  const lock = lockDataFolder(probe);
  const { host, pid_namespace } = lock.holder;
  lock.release();
  return { host, pid_namespace };
};
const plant = (dir: string, holder: Partial<LockHolder>, ageMs = 0) => {
  writeFileSync(lockFile(dir), JSON.stringify({ command: 'gotrue serve', started_at: '2026-11-30T10:00:00.000Z', token: 'planted', ...here(), ...holder }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(lockFile(dir), t, t);
};
/** A pid that is certainly dead: a child that has already exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('the data folder lock', () => {
  it('writes pid, host, command and start time, refuses a second taker naming folder, pid and command, and is gone after release', () => {
    const dir = folder();
    const lock = lockDataFolder(dir);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: hostname(), command: expect.any(String), started_at: expect.any(String) });
    let refusal: unknown;
    try {
      lockDataFolder(dir);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(DataFolderInUseError);
    const message = (refusal as Error).message;
    expect(message).toContain(`the embedded database at ${dir} is in use by this very process, pid ${process.pid}`);
    expect(message).toMatch(/stop that process first, or while it runs manage users through its admin API/);
    expect(message).not.toContain('\n');
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
    lock.release(); // idempotent
    lockDataFolder(dir).release();
  });

  it('takes over a lock whose pid is dead on this host at once', () => {
    const dir = folder();
    plant(dir, { pid: deadPid() });
    const lock = lockDataFolder(dir);
    expect(readLock(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock bearing its own pid that this process does not hold (a restarted container often gets its predecessor pid)', () => {
    const dir = folder();
    plant(dir, { pid: process.pid });
    const lock = lockDataFolder(dir);
    expect(readLock(dir).token).toBe(lock.holder.token);
    lock.release();
  });

  it('refuses while the holder on this host is alive', () => {
    const dir = folder();
    plant(dir, { pid: process.ppid, command: 'gotrue admin createuser' });
    expect(() => lockDataFolder(dir)).toThrow(new RegExp(`in use by pid ${process.ppid} \\(gotrue admin createuser, started 2026-11-30T10:00:00.000Z\\)`));
    expect(readLock(dir).token).toBe('planted');
  });

  it('judges a lock from another host (or pid namespace) by its heartbeat: fresh refuses, stale is taken over', () => {
    const dir = folder();
    plant(dir, { pid: process.ppid, host: 'container-a' }, 1_000);
    expect(() => lockDataFolder(dir)).toThrow(/in use by pid \d+ \(gotrue serve, .* on host container-a, last alive 1s ago/);
    plant(dir, { pid: 1, pid_namespace: 'pid:[1]' }, 2_000);
    expect(() => lockDataFolder(dir)).toThrow(DataFolderInUseError);
    plant(dir, { pid: process.ppid, host: 'container-a' }, FOREIGN_STALE_MS + 1_000);
    const lock = lockDataFolder(dir);
    expect(readLock(dir).host).toBe(hostname());
    lock.release();
  });

  it('keeps the heartbeat going while held', async () => {
    const dir = folder();
    const lock = lockDataFolder(dir);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(dir), old, old);
    await new Promise((r) => setTimeout(r, 5_500));
    const { mtimeMs } = await import('node:fs').then((fs) => fs.statSync(lockFile(dir)));
    expect(Date.now() - mtimeMs).toBeLessThan(5_000);
    lock.release();
  }, 15_000);

  it('treats an unreadable lock file as being written when young, and as stale when old', () => {
    const dir = folder();
    writeFileSync(lockFile(dir), '');
    expect(() => lockDataFolder(dir)).toThrow(/has no readable owner/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(dir), old, old);
    lockDataFolder(dir).release();
  });

  it('release leaves a lock that is no longer ours alone', () => {
    const dir = folder();
    const lock = lockDataFolder(dir);
    plant(dir, { pid: process.ppid, token: 'someone-else' });
    lock.release();
    expect(readLock(dir).token).toBe('someone-else');
  });

  // PGlite creates a database in the folder first: 5 s alone, over 30 s on a loaded 2-core machine.
  it('openDatabase locks a PGlite folder until destroy, then opens it again', async () => {
    const dir = folder();
    const first = await openDatabase({ url: undefined, namespace: 'auth', maxPoolSize: 1, dataDir: dir });
    expect(readLock(dir).pid).toBe(process.pid);
    await expect(openDatabase({ url: undefined, namespace: 'auth', maxPoolSize: 1, dataDir: dir })).rejects.toThrow(DataFolderInUseError);
    await first.destroy();
    expect(existsSync(lockFile(dir))).toBe(false);
    const again = await openDatabase({ url: undefined, namespace: 'auth', maxPoolSize: 1, dataDir: dir });
    await again.destroy();
    expect(existsSync(lockFile(dir))).toBe(false);
  }, 240_000);
});
