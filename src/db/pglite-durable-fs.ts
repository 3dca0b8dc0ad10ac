import { fsyncSync } from 'node:fs';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * PGlite over a folder, with commits flushed to disk before they are acknowledged.
 *
 * PGlite's defaults keep a commit only as far as the kernel: its Postgres runs with `-F` (fsync off), and
 * Emscripten's NODEFS, which maps the data folder onto the host's files, writes through with `fs.writeSync` but
 * has no `fsync` of its own (fsync() is a no-op and fdatasync() always is). A commit therefore survives the
 * process being killed (the kernel holds the written WAL) but not an OS crash or power loss, and a checkpoint
 * that recycles WAL over unflushed data pages can leave the folder corrupt after one.
 *
 * Here Postgres runs with fsync on and `wal_sync_method=fsync` (the one sync call that reaches the file system
 * layer), and NODEFS's fsync calls the host's `fsync(2)` on the file. Installed before Postgres starts, so crash
 * recovery and the end-of-recovery checkpoint are flushed too. Cost measured in README (embedded database).
 */
export function durablePGliteOptions(pgdata: string, fs: DurableNodeFS = new DurableNodeFS(pgdata)): Pick<PGliteOptions, 'fs' | 'startParams'> {
  const { startParams } = pgliteStartParams();
  return { fs, startParams: [...startParams.filter((p) => p !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'] };
}

/**
 * Postgres settings PGlite starts with, beyond its own, sized for one auth server's single connection.
 *
 * shared_buffers: Postgres' stock 128MB lives in WebAssembly memory, where pages once touched stay resident;
 * 16MB (2,048 pages) holds the auth schema's hot indexes for thousands of users, and a page read past it comes
 * from the OS page cache (NODEFS reads the data folder's files). Measured (README, Performance): idle RSS about
 * 65 MB lower, peak under load about 100 MB lower. WAL buffers follow (1/32 of it).
 * Not lowered: PGlite's initial WebAssembly memory (`initialMemory`) — pglite.wasm declares 128 MiB as its
 * minimum and refuses less; work_mem, max_connections, temp_buffers and maintenance_work_mem — measured, no change.
 */
export const PGLITE_SETTINGS: readonly string[] = ['shared_buffers=16MB'];

/** PGlite's start parameters (its defaults and PGLITE_SETTINGS), for the in-memory and on-disk database alike. */
export function pgliteStartParams(): Required<Pick<PGliteOptions, 'startParams'>> {
  return { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])] };
}
interface EmscriptenStream {
  nfd?: number;
}
interface EmscriptenModule {
  NODEFS: {
    stream_ops: { fsync?: (stream: EmscriptenStream) => number };
    /** Runs a host fs call, turning a Node error into the errno Postgres sees (as NODEFS's write does). */
    tryFSOperation<T>(f: () => T): T;
  };
}

/**
 * NODEFS whose fsync reaches the disk. `deferFsync()` before the database starts makes fsync a no-op until
 * `resumeFsync()`: a new data folder (pglite-seed.ts) is flushed as a whole once it is made, instead of file by file
 * while Postgres recovers and checkpoints it at its first start (seconds of fsyncs on a slow disk); the folder is
 * marked unfinished until then, so nothing depends on those writes before they are flushed.
 */
export class DurableNodeFS extends NodeFS {
  private deferred = false;
  deferFsync(): void {
    this.deferred = true;
  }
  resumeFsync(): void {
    this.deferred = false;
  }
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]) {
    const { emscriptenOpts } = await super.init(pg, opts);
    const flushToHost = (mod: EmscriptenModule) => {
      const nodefs = mod.NODEFS;
      nodefs.stream_ops.fsync = (stream) => {
        const fd = stream.nfd;
        if (fd !== undefined && !this.deferred) nodefs.tryFSOperation(() => fsyncSync(fd));
        return 0;
      };
    };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), flushToHost] } };
  }
}
