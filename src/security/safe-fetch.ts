import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * An HTTP GET of a URL someone else chose (an MCP client's Client ID Metadata Document), guarded against server-side
 * request forgery:
 * - https only; no userinfo; the host must resolve to public unicast addresses only — every address DNS answers is
 *   checked inside the socket's own `lookup`, so the address connected to is the address checked (a rebinding DNS
 *   server cannot answer "public" to a check and "private" to the connect);
 * - no redirects (a 3xx is refused, never followed); a non-2xx status is refused;
 * - the body is capped while it streams (and by Content-Length up front); the whole exchange is capped in time;
 * - the answer must be JSON (`application/json` or `application/*+json`).
 * `insecureOrigins` (tests only; the operator is warned at startup) lifts the https and address rules for exact
 * origins such as http://127.0.0.1:4000.
 */

export interface SafeFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Exact origins allowed over http and to any address, as URL.origin spells them (the config normalises). Tests only. */
  insecureOrigins: readonly string[];
  userAgent?: string;
}

export interface SafeFetchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SafeFetchReason = 'bad_url' | 'blocked_address' | 'redirect' | 'http_status' | 'too_large' | 'timeout' | 'content_type' | 'network';

/** Why a fetch was refused; `message` is safe to show (it names the rule, not the internals). */
export class SafeFetchError extends Error {
  constructor(
    readonly reason: SafeFetchReason,
    message: string,
  ) {
    super(message);
  }
}

export type SafeFetch = (url: string) => Promise<SafeFetchResponse>;

/**
 * Whether an address is one a fetch may reach: public unicast only. ipaddr.js names every special range
 * (private, loopback, linkLocal, uniqueLocal, carrierGradeNat, multicast, unspecified, broadcast, reserved,
 * 6to4, teredo, NAT64 …); anything but `unicast` is refused. A v4-mapped v6 address is judged as its v4 address.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return parsed.range() === 'unicast';
}

/** The socket's lookup: resolve every address, refuse if any is not public (never pick a "good" one among bad). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    if (addresses.length === 0) return callback(new SafeFetchError('network', 'host did not resolve'), '', 0);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) return callback(new SafeFetchError('blocked_address', 'host resolves to a private, loopback, link-local or otherwise non-public address'), '', 0);
    if ((options as LookupOptions).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

const isJson = (contentType: string | undefined) => {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
};

export function createSafeFetch(opts: SafeFetchOptions): SafeFetch {
  const insecure = new Set(opts.insecureOrigins);
  return (raw) =>
    new Promise<SafeFetchResponse>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return reject(new SafeFetchError('bad_url', 'not an absolute URL'));
      }
      const trusted = insecure.has(url.origin);
      if (url.protocol !== 'https:' && !(trusted && url.protocol === 'http:')) return reject(new SafeFetchError('bad_url', 'only https URLs are fetched'));
      if (url.username || url.password) return reject(new SafeFetchError('bad_url', 'URL must not contain credentials'));
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // An IP literal never reaches `lookup` (Node connects to it directly): judge it here.
      if (!trusted && isIP(host) !== 0 && !isPublicAddress(host)) return reject(new SafeFetchError('blocked_address', 'URL names a private, loopback, link-local or otherwise non-public address'));

      let settled = false;
      const fail = (e: SafeFetchError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e);
      };
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, {
        method: 'GET',
        agent: false,
        headers: { accept: 'application/json', 'user-agent': opts.userAgent ?? 'gotrue-ts' },
        ...(trusted ? {} : { lookup: guardedLookup }),
      });
      const timer = setTimeout(() => fail(new SafeFetchError('timeout', `no complete answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      req.on('error', (err) => fail(err instanceof SafeFetchError ? err : new SafeFetchError('network', 'the request failed')));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) return fail(new SafeFetchError('redirect', `answered ${status}: redirects are not followed`));
        if (status < 200 || status >= 300) return fail(new SafeFetchError('http_status', `answered HTTP ${status}`));
        if (!isJson(res.headers['content-type'])) return fail(new SafeFetchError('content_type', 'the answer is not application/json'));
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) return fail(new SafeFetchError('too_large', `the answer is larger than ${opts.maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) return fail(new SafeFetchError('too_large', `the answer is larger than ${opts.maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('error', () => fail(new SafeFetchError('network', 'the answer was cut off')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end();
    });
}
