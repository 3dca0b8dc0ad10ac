import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback';

export interface PwnedRangeStandIn {
  /** The base URL (GOTRUE_PASSWORD_HIBP_URL). */
  url: string;
  /** Every path asked for, as received (`/ABCDE`), and the headers of each request. */
  requests: { path: string; userAgent: string | undefined; padding: string | undefined }[];
  /** Answer 503 (true) or the range (false). */
  failing(on: boolean): void;
  close(): Promise<void>;
}

export const sha1Upper = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();

/**
 * A local Pwned Passwords range API: `GET /<5 hex>` answers `SUFFIX:COUNT` lines for the given pwned passwords
 * with that prefix, plus decoy lines and zero-count padding lines, as the real API does with Add-Padding.
 */
export async function startPwnedRangeStandIn(pwned: string[]): Promise<PwnedRangeStandIn> {
  const hashes = pwned.map(sha1Upper);
  const requests: PwnedRangeStandIn['requests'] = [];
  let failing = false;
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ path, userAgent: req.headers['user-agent'], padding: req.headers['add-padding'] as string | undefined });
    const m = /^\/([0-9A-F]{5})$/.exec(path);
    if (failing || !m) {
      res.writeHead(failing ? 503 : 400).end();
      return;
    }
    const prefix = m[1]!;
    const lines = hashes.filter((h) => h.startsWith(prefix)).map((h) => `${h.slice(5)}:42`);
    // Decoys: other suffixes of this prefix, some real-looking (count > 0), some padding (count 0).
    for (let i = 0; i < 5; i++) lines.push(`${sha1Upper(`decoy-${prefix}-${i}`).slice(5)}:${i % 2}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(lines.sort().join('\r\n'));
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    requests,
    failing(on) {
      failing = on;
    },
    close,
  };
}
