import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { Fetch } from '../external/types';

/** GoTrue gives every range request this long (api.go: "all HIBP API requests should finish quickly"). */
export const RANGE_TIMEOUT_MS = 5_000;

/** Whether a password appears in the Pwned Passwords corpus; throws when the range API cannot be asked. */
export interface PwnedPasswords {
  isPwned(password: string): Promise<boolean>;
}

const LINE = /^([0-9A-F]{35}):(\d+)\s*$/;

/**
 * The k-anonymity range check (supabase/hibp's PwnedClient, as GoTrue uses it): only the first 5 hex characters of
 * the password's SHA-1 leave the server, as `GET <url>/<PREFIX>`; the answer lists the suffixes of every pwned hash
 * with that prefix, which we look ours up in. Padding is asked for (`Add-Padding: true`; padded lines count 0 and
 * are ignored) so the answer's size says nothing either. Concurrent checks of one prefix share one request. With
 * the bloom cache on, every suffix fetched is remembered, and a remembered hash is pwned without a request (a
 * false positive at the configured rate refuses a good password; a false negative cannot happen).
 */
export function createPwnedPasswords(config: Config['hibp'], fetchFn: Fetch): PwnedPasswords {
  const cache = config.bloom.enabled ? new HashBloom(config.bloom.items, config.bloom.falsePositives) : undefined;
  const inFlight = new Map<string, Promise<Set<string>>>();

  async function fetchRange(prefix: string): Promise<Set<string>> {
    const res = await fetchFn(`${config.url}/${prefix}`, {
      headers: { 'User-Agent': config.userAgent, 'Add-Padding': 'true' },
      signal: AbortSignal.timeout(RANGE_TIMEOUT_MS),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`pwned passwords range API answered HTTP ${res.status}`);
    }
    const suffixes = new Set<string>();
    for (const line of (await res.text()).split('\n')) {
      const m = LINE.exec(line);
      if (m && Number(m[2]) > 0) suffixes.add(m[1]!);
    }
    if (cache) for (const s of suffixes) cache.add(prefix + s);
    return suffixes;
  }

  return {
    async isPwned(password) {
      const hash = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
      if (cache?.has(hash)) return true;
      const prefix = hash.slice(0, 5);
      let pending = inFlight.get(prefix);
      if (!pending) {
        pending = fetchRange(prefix).finally(() => inFlight.delete(prefix));
        inFlight.set(prefix, pending);
      }
      return (await pending).has(hash.slice(5));
    },
  };
}

/**
 * A bloom filter over SHA-1 hex digests (GoTrue's HIBPBloomCache, sized from items and false-positive rate). The
 * items are uniformly distributed hashes already, so the k bit positions come from the digest itself by double
 * hashing (Kirsch–Mitzenmacher) on two 32-bit words past the shared 5-character prefix. Like GoTrue's, it is
 * cleared when it holds more than 80 % of its items, to keep the real false-positive rate near the configured one.
 */
export class HashBloom {
  private readonly bits: Uint8Array;
  private readonly m: number;
  private readonly k: number;
  private count = 0;

  constructor(
    private readonly capacity: number,
    falsePositives: number,
  ) {
    const p = Math.min(Math.max(falsePositives, 1e-12), 0.5);
    this.m = Math.max(64, Math.ceil((-capacity * Math.log(p)) / Math.LN2 ** 2));
    this.k = Math.max(1, Math.round((this.m / capacity) * Math.LN2));
    this.bits = new Uint8Array(Math.ceil(this.m / 8));
  }

  /** Bytes the filter holds. */
  get size(): number {
    return this.bits.length;
  }

  add(hexDigest: string): void {
    if (++this.count > (4 * this.capacity) / 5) {
      this.bits.fill(0);
      this.count = 1;
    }
    for (const i of this.positions(hexDigest)) this.bits[i >> 3]! |= 1 << (i & 7);
  }

  has(hexDigest: string): boolean {
    for (const i of this.positions(hexDigest)) if ((this.bits[i >> 3]! & (1 << (i & 7))) === 0) return false;
    return true;
  }

  private *positions(hexDigest: string): Generator<number> {
    const h1 = Number.parseInt(hexDigest.slice(8, 16), 16);
    const h2 = (Number.parseInt(hexDigest.slice(16, 24), 16) | 1) >>> 0;
    for (let i = 0; i < this.k; i++) yield (h1 + i * h2) % this.m;
  }
}
