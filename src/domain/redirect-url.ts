import { isIP } from 'node:net';
import type { Config } from '../config';
import { isStorableText } from './text';

/**
 * redirect_to validation, contract §6.7. A redirect is allowed when it has SITE_URL's scheme and host (and port,
 * except on loopback, where any port goes), or when it matches a GOTRUE_URI_ALLOW_LIST glob (`*` stops at `.` and
 * `/`, `**` crosses them, `?` is one character; the fragment is ignored). An invalid one never errors: it falls
 * back to the Referer, then to SITE_URL, so the server can never be turned into an open redirect. A candidate with
 * a control character or an unpaired surrogate is invalid too, so it never reaches a row or a mail.
 */

type RedirectConfig = Pick<Config, 'siteUrl' | 'uriAllowList'>;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLoopback = (hostname: string) => LOOPBACK_NAMES.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** The host as written in the URL (before WHATWG normalisation turns "2130706433" into 127.0.0.1). */
function rawHost(url: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#\\]*@)?(\[[^\]]*\]|[^/?#:\\]*)/.exec(url);
  return m?.[1];
}

/** Control characters (NUL included): WHATWG parsing tolerates some of them, Postgres and mail links do not. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Structural checks every candidate must pass, whatever the allow list says. */
function parseSafe(candidate: string): URL | undefined {
  if (candidate.length > 2048 || CONTROL.test(candidate) || !isStorableText(candidate) || !URL.canParse(candidate)) return undefined;
  const u = new URL(candidate);
  if (u.username || u.password) return undefined;
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    const raw = rawHost(candidate)?.toLowerCase();
    // Rejects all-digit and hex hosts, percent-encoding and non-ASCII hosts: only [A-Za-z0-9.-] as written.
    if (raw === undefined || raw !== u.hostname || !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(raw)) return undefined;
    if (/^\d+$/.test(raw)) return undefined;
    const literal = raw.startsWith('[') ? raw.slice(1, -1) : raw;
    if (isIP(literal) !== 0 && !isLoopback(u.hostname)) return undefined;
  }
  return u;
}

const globCache = new Map<string, RegExp>();
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      src += '.*';
      i++;
    } else if (ch === '*') src += '[^./]*';
    else if (ch === '?') src += '[^./]';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  re = new RegExp(`^${src}$`);
  if (globCache.size < 1000) globCache.set(glob, re);
  return re;
}

/** True when the candidate may be redirected to. */
export function isRedirectAllowed(config: RedirectConfig, candidate: string): boolean {
  const withoutFragment = candidate.split('#', 1)[0]!;
  const u = parseSafe(withoutFragment);
  if (!u) return false;
  const site = new URL(config.siteUrl);
  if (u.protocol === site.protocol && u.hostname === site.hostname && (u.port === site.port || isLoopback(u.hostname))) {
    return true;
  }
  return config.uriAllowList.some((glob) => globToRegExp(glob.split('#', 1)[0]!).test(withoutFragment));
}

/** The redirect to use: the candidate if allowed, else the Referer if allowed, else SITE_URL. Never throws. */
export function resolveRedirectTo(config: RedirectConfig, candidate: string | null | undefined, referer?: string | null): string {
  if (candidate && isRedirectAllowed(config, candidate)) return candidate;
  if (referer && isRedirectAllowed(config, referer)) return referer;
  return config.siteUrl;
}
