import { describe, expect, it } from 'vitest';
import { isRedirectAllowed, resolveRedirectTo } from '../../src/domain/redirect-url';

const config = {
  siteUrl: 'https://app.example.com',
  uriAllowList: ['https://*.preview.example.com/**', 'com.example.app://login-callback', 'https://docs.example.org/*/done', 'http://localhost:3000/**'],
};
const local = { siteUrl: 'http://localhost:3000', uriAllowList: [] };

describe('redirect_to validation (contract §6.7)', () => {
  it.each([
    ['same scheme and host as SITE_URL', config, 'https://app.example.com/welcome?x=1'],
    ['SITE_URL with a fragment', config, 'https://app.example.com/#/route'],
    ['any port on loopback when SITE_URL is loopback', local, 'http://localhost:5173/cb'],
    ['127.0.0.1 for a localhost SITE_URL on its port', { siteUrl: 'http://127.0.0.1:3000', uriAllowList: [] }, 'http://127.0.0.1:4000/'],
    ['a * glob on one label', config, 'https://pr-12.preview.example.com/a/b/c'],
    ['a mobile deep link on the allow list', config, 'com.example.app://login-callback'],
    ['a * glob on one path segment', config, 'https://docs.example.org/guide/done'],
    ['the fragment is ignored when matching', config, 'https://docs.example.org/guide/done#x/y'],
  ])('allows %s', (_name, cfg, url) => {
    expect(isRedirectAllowed(cfg, url)).toBe(true);
  });

  it.each([
    ['another host', config, 'https://evil.example.net/'],
    ['a look-alike suffix', config, 'https://app.example.com.evil.net/'],
    ['another scheme', config, 'http://app.example.com/'],
    ['another port on a non-loopback host', config, 'https://app.example.com:8443/'],
    ['userinfo', config, 'https://app.example.com@evil.net/'],
    ['userinfo on the site host', config, 'https://user:pw@app.example.com/'],
    ['* crossing a dot', config, 'https://a.b.preview.example.com/x'],
    ['* crossing a slash', config, 'https://docs.example.org/a/b/done'],
    ['an all-digit host', local, 'http://2130706433:3000/'],
    ['a hex host', local, 'http://0x7f000001:3000/'],
    ['a non-loopback IP literal', { siteUrl: 'http://10.0.0.1', uriAllowList: ['http://10.0.0.1/**'] }, 'http://10.0.0.1/x'],
    ['a host with a character outside [A-Za-z0-9.-]', config, 'https://app_example.com/'],
    ['a non-ASCII host', config, 'https://аpp.example.com/'],
    ['a backslash trick', config, 'https://evil.net\\@app.example.com/'],
    ['javascript:', config, 'javascript:alert(1)'],
    ['a relative path', config, '/just/a/path'],
    ['garbage', config, 'not a url'],
  ])('refuses %s', (_name, cfg, url) => {
    expect(isRedirectAllowed(cfg, url)).toBe(false);
  });

  it('falls back to the Referer, then to SITE_URL, never throwing', () => {
    expect(resolveRedirectTo(config, 'https://evil.net/', 'https://app.example.com/from')).toBe('https://app.example.com/from');
    expect(resolveRedirectTo(config, 'https://evil.net/', 'https://evil.net/ref')).toBe('https://app.example.com');
    expect(resolveRedirectTo(config, undefined, undefined)).toBe('https://app.example.com');
    expect(resolveRedirectTo(config, 'https://pr-1.preview.example.com/x')).toBe('https://pr-1.preview.example.com/x');
  });
});
