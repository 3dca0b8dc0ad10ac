/**
 * At most `limit` calls of the wrapped work run at once; the others wait their turn in arrival order.
 *
 * For password hashing: argon2id (19 MiB each at OWASP's parameters) runs on libuv's thread pool, whose four
 * threads would otherwise hash four passwords at once on a 2-core machine. Past the number of cores that only
 * queues the work inside libuv — no password is done sooner — while each running hash holds its memory (and glibc
 * keeps the arenas of every thread that hashed). Waiting here instead costs nothing but a resolved promise.
 */
export interface ConcurrencyLimit {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Calls running now and waiting now (for tests and metrics). */
  readonly active: number;
  readonly waiting: number;
}

export function concurrencyLimit(limit: number): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrencyLimit: limit must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    // The slot passes straight to the next waiter, so a caller arriving meanwhile cannot overtake the queue.
    if (next) next();
    else active--;
  };
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (active < limit) active++;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
