import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * Timing parity (house rule 6) where GoTrue answers an existing and an unknown account alike but the work differs:
 * a repeated signup for a confirmed address (no user created, no mail), /resend and /recover for an address with
 * nothing to send. Those paths cannot do the real work — it would create rows or mail someone — so they wait as
 * long as the real work took: each real path records how long its section took (a transaction and a mail or SMS
 * hand-over, which dominates), and a look-alike path waits until a duration drawn from the recent real ones has
 * passed since its own section began. Drawing from the recent samples, rather than waiting a constant, gives the
 * look-alike answers the same spread as the real ones. Before the first real sample there is nothing to imitate.
 */

/**
 * Samples kept per flow: few, so the look-alike follows the real work's current cost. Durations from a burst
 * (30 concurrent sign-ups take ~10× longer each) are flushed by the next 8 real ones instead of making the
 * look-alike answers stand out as the slow ones for long.
 */
const KEPT = 8;

/** Per deps (one server), per flow: the latest durations in ms. */
const samplesOf = new WeakMap<object, Map<string, number[]>>();

export interface ParityTimer {
  /** The real work is done: record how long the section took. */
  record(): void;
  /** A look-alike path: wait until the section has taken as long as a recent real one. */
  imitate(): Promise<void>;
}

/** Starts timing a section of `flow` (call it where the real and the look-alike paths part). */
export function parityTimer(owner: object, flow: string): ParityTimer {
  const t0 = performance.now();
  let flows = samplesOf.get(owner);
  if (!flows) samplesOf.set(owner, (flows = new Map()));
  const samples = flows.get(flow) ?? [];
  flows.set(flow, samples);
  return {
    record() {
      samples.push(performance.now() - t0);
      if (samples.length > KEPT) samples.shift();
    },
    async imitate() {
      if (samples.length === 0) return;
      const target = samples[randomInt(samples.length)]!;
      const wait = target - (performance.now() - t0);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    },
  };
}
