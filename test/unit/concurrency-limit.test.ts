import argon2 from 'argon2';
import { describe, expect, it, vi } from 'vitest';
import { concurrencyLimit } from '../../src/crypto/concurrency-limit';
import { createPasswordHasher } from '../../src/crypto/password-hasher';

const tick = () => new Promise((r) => setImmediate(r));

describe('concurrencyLimit', () => {
  it('runs at most `limit` calls at once and starts the waiting ones in arrival order', async () => {
    const limit = concurrencyLimit(2);
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const calls = [0, 1, 2, 3, 4].map((i) =>
      limit.run(async () => {
        started.push(i);
        await new Promise<void>((r) => gates.push(r));
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([limit.active, limit.waiting]).toEqual([2, 3]);
    gates[1]!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!();
    gates[2]!();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!();
    gates[4]!();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4]);
    expect([limit.active, limit.waiting]).toEqual([0, 0]);
  });

  it('frees the slot of a call that throws', async () => {
    const limit = concurrencyLimit(1);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
    expect(limit.active).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => concurrencyLimit(bad)).toThrow(/positive integer/);
  });
});

describe('password hasher concurrency', () => {
  it('runs no more than `parallel` argon2 hashes and verifies at once, however many are asked for', async () => {
    // The real argon2, watched: how many of its calls are in flight at most.
    let inFlight = 0;
    let most = 0;
    const watch = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        most = Math.max(most, ++inFlight);
        try {
          return await fn(...args);
        } finally {
          inFlight--;
        }
      };
    const [realVerify, realHash] = [argon2.verify.bind(argon2), argon2.hash.bind(argon2)];
    const verify = vi.spyOn(argon2, 'verify').mockImplementation(watch(realVerify));
    const hash = vi.spyOn(argon2, 'hash').mockImplementation(watch(realHash) as typeof argon2.hash);
    try {
      const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, 2);
      const encoded = await hasher.hash('a password');
      const results = await Promise.all([
        ...Array.from({ length: 6 }, () => hasher.verify(encoded, 'a password')),
        ...Array.from({ length: 3 }, () => hasher.hash('another')),
        ...Array.from({ length: 3 }, () => hasher.burn('guess')),
      ]);
      expect(results.slice(0, 6).every((r) => (r as { valid: boolean }).valid)).toBe(true);
      expect(most).toBe(2);
    } finally {
      verify.mockRestore();
      hash.mockRestore();
    }
  });
});
