import { randomBytes, randomUUID } from 'node:crypto';

/** Time, injected so tests can fix it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Randomness, injected so tests can observe or fix it. */
export interface Random {
  bytes(n: number): Buffer;
  uuid(): string;
}
export const systemRandom: Random = { bytes: (n) => randomBytes(n), uuid: () => randomUUID() };
