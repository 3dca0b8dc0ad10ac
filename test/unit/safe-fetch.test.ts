import { createServer, type RequestListener } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSafeFetch, isPublicAddress, SafeFetchError } from '../../src/security/safe-fetch';
import { listenOnLoopback } from '../helpers/loopback';

describe('isPublicAddress', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'v6 loopback'],
    ['::', 'v6 unspecified'],
    ['fe80::1', 'v6 link-local'],
    ['fd00::1', 'v6 unique-local'],
    ['ff02::1', 'v6 multicast'],
    ['::ffff:127.0.0.1', 'v4-mapped loopback'],
    ['::ffff:10.0.0.1', 'v4-mapped private'],
    ['::ffff:a9fe:a9fe', 'v4-mapped link-local, hex form'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['2002:a00:1::', '6to4 of 10.0.0.1'],
    ['not-an-ip', 'not an address'],
  ])('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public unicast %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

const reason = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SafeFetchError);
    return (err as SafeFetchError).reason;
  }
  throw new Error('expected a refusal');
};

describe('createSafeFetch without a testing-only origin', () => {
  const strict = createSafeFetch({ timeoutMs: 2000, maxBytes: 1024, insecureOrigins: [] });

  it.each([
    ['https://127.0.0.1/client.json', 'blocked_address', 'loopback literal'],
    ['https://[::1]/client.json', 'blocked_address', 'v6 loopback literal'],
    ['https://[::ffff:127.0.0.1]/client.json', 'blocked_address', 'v4-mapped loopback literal'],
    ['https://10.0.0.5/client.json', 'blocked_address', 'private literal'],
    ['https://169.254.169.254/latest/meta-data', 'blocked_address', 'link-local metadata service'],
    ['https://[fd12::1]/c.json', 'blocked_address', 'unique-local literal'],
    ['https://100.100.1.1/c.json', 'blocked_address', 'CGNAT literal'],
    ['https://localhost/client.json', 'blocked_address', 'a name that resolves to loopback (checked in lookup)'],
    ['http://example.com/client.json', 'bad_url', 'plain http'],
    ['https://user:pw@example.com/client.json', 'bad_url', 'userinfo'],
    ['ftp://example.com/client.json', 'bad_url', 'another scheme'],
    ['not a url', 'bad_url', 'not a URL'],
  ])('refuses %s: %s (%s)', async (url, why) => {
    expect(await reason(strict(url))).toBe(why);
  });
});

describe('createSafeFetch against a local listener (its origin allowed for tests)', () => {
  const routes: Record<string, RequestListener> = {
    '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"a":1}'),
    '/vendor-json': (_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.example+json' }).end('{}'),
    '/redirect': (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end(),
    '/permanent': (_req, res) => res.writeHead(308, { location: '/ok' }).end(),
    '/html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    '/no-type': (_req, res) => res.writeHead(200).end('{}'),
    '/declared-big': (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' }).end('x'.repeat(5000)),
    '/streamed-big': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Chunked, no Content-Length: only the streaming cap can stop it (the second chunk crosses it, so a slow machine
      // reaches the cap long before the time cap).
      let n = 0;
      const t = setInterval(() => {
        if (n++ > 50 || res.destroyed) return clearInterval(t), res.end();
        res.write('x'.repeat(700));
      }, 5);
    },
    '/slow': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      // Trickles forever; only the total time cap ends it.
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 100);
    },
    '/missing': (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{}'),
  };
  let listener: { url: string; close: () => Promise<void> };
  let safe: ReturnType<typeof createSafeFetch>;

  beforeAll(async () => {
    listener = await listenOnLoopback(createServer((req, res) => (routes[req.url ?? ''] ?? routes['/missing']!)(req, res)));
    safe = createSafeFetch({ timeoutMs: 400, maxBytes: 1024, insecureOrigins: [listener.url] });
  });
  afterAll(() => listener.close());

  it('fetches JSON from an allowed origin', async () => {
    const res = await safe(`${listener.url}/ok`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ a: 1 });
  });

  it('accepts an application/*+json type', async () => {
    expect((await safe(`${listener.url}/vendor-json`)).status).toBe(200);
  });

  it.each([
    ['/redirect', 'redirect', 'a 302 to the metadata service is not followed'],
    ['/permanent', 'redirect', 'a 308 is not followed either'],
    ['/html', 'content_type', 'text/html'],
    ['/no-type', 'content_type', 'no content type'],
    ['/declared-big', 'too_large', 'Content-Length over the cap'],
    ['/streamed-big', 'too_large', 'a chunked body over the cap'],
    ['/slow', 'timeout', 'a body that never ends'],
    ['/missing', 'http_status', 'a 404'],
  ])('refuses %s: %s (%s)', async (path, why) => {
    expect(await reason(safe(`${listener.url}${path}`))).toBe(why);
  });

  it('allows only the exact listed origin: another port on the same host is refused', async () => {
    const port = Number(new URL(listener.url).port);
    expect(await reason(safe(`http://127.0.0.1:${port + 1}/ok`))).toBe('bad_url');
    expect(await reason(createSafeFetch({ timeoutMs: 400, maxBytes: 1024, insecureOrigins: [] })(`${listener.url}/ok`))).toBe('bad_url');
  });
});
