import { performance } from 'node:perf_hooks';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Times `a(i)` and `b(i)` for i = 0…n-1, interleaved (a, b, a, b…) so that a change in the machine's load falls
 * on both alike, and returns each side's median in milliseconds (medians shrug off the odd GC pause or noisy
 * neighbour that a mean would not).
 */
export async function pairedMedians(n: number, a: (i: number) => Promise<unknown>, b: (i: number) => Promise<unknown>): Promise<{ a: number; b: number; ratio: number }> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const [fn, out] of i % 2 ? ([[b, tb], [a, ta]] as const) : ([[a, ta], [b, tb]] as const)) {
      const t0 = performance.now();
      await fn(i);
      out.push(performance.now() - t0);
    }
  }
  const ma = median(ta);
  const mb = median(tb);
  return { a: ma, b: mb, ratio: Math.max(ma, mb) / Math.min(ma, mb) };
}
