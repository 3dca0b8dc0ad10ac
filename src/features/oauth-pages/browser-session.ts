import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Response } from 'express';
import type { Deps } from '../../deps';
import type { AuthenticatedUser } from '../../domain/authenticate';
import { HOSTED_PAGES_PATH, type SignIn } from '../../domain/oauth-server';
import { findLiveSession, type LiveSession } from '../../domain/user-sessions';
import { forbidden } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';

/**
 * The hosted pages' browser session: one cookie, `v1.<issued>.<nonce>.<session id | ->.<mac>`, HMAC-SHA256 under a
 * key derived from the refresh-token secret (else the JWT secret). It names a session row, never a token: a reader
 * of the cookie learns an id, and without the key cannot make one that names another session. HttpOnly,
 * SameSite=Lax, scoped to API_EXTERNAL_URL's path + /oauth/pages, Secure unless the pages are served over plain
 * http on a loopback host (http://localhost…, for trying the provider). Every form carries a CSRF token,
 * HMAC(key, nonce + session id), compared in constant time; the nonce changes at sign-in, so a token seen before
 * sign-in is worthless after it.
 */

export const PAGE_COOKIE = 'sb-oauth-pages';
/** How long a cookie is honoured, whatever its session's own lifetime. */
const COOKIE_LIFETIME_MS = 24 * 60 * 60 * 1000;
const SHAPE = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([0-9a-f-]{36}|-)\.([A-Za-z0-9_-]{43})$/;

export interface PageCookie {
  nonce: string;
  /** The signed-in session, or null before sign-in. */
  sessionId: string | null;
  issuedAt: number;
}

const keys = new WeakMap<object, Buffer>();
function keyOf(deps: Pick<Deps, 'config'>): Buffer {
  let key = keys.get(deps.config);
  if (!key) {
    const secret = deps.config.jwt.refreshTokenSecret ?? deps.config.jwt.secret;
    key = Buffer.from(hkdfSync('sha256', secret, '', 'gotrue-ts oauth pages cookie v1', 32));
    keys.set(deps.config, key);
  }
  return key;
}

const mac = (deps: Pick<Deps, 'config'>, label: string, text: string) => createHmac('sha256', keyOf(deps)).update(`${label}|${text}`).digest('base64url');

/** Equal strings, in time that does not depend on where they differ (or on their lengths). */
function sameSecret(a: string, b: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The page cookie a request carries, when it is one this server made and is not older than its lifetime. */
export function readPageCookie(deps: Pick<Deps, 'config' | 'clock'>, cookieHeader: string | undefined): PageCookie | undefined {
  const value = cookieValue(cookieHeader, PAGE_COOKIE);
  const m = value === undefined ? null : SHAPE.exec(value);
  if (!m) return undefined;
  const [, issued, nonce, sid, given] = m;
  if (!sameSecret(given!, mac(deps, 'cookie', `${issued}.${nonce}.${sid}`))) return undefined;
  const issuedAt = Number(issued) * 1000;
  const now = deps.clock.now().getTime();
  if (issuedAt > now + 60_000 || now - issuedAt > COOKIE_LIFETIME_MS) return undefined;
  return { nonce: nonce!, sessionId: sid === '-' ? null : sid!, issuedAt };
}

/** The value of one cookie in a Cookie header (the first of that name). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A new cookie (a fresh nonce) for a session, or for none yet; set on the response. */
export function startPageCookie(deps: Pick<Deps, 'config' | 'clock' | 'random'>, res: Response, sessionId: string | null): PageCookie {
  const cookie = { nonce: deps.random.bytes(16).toString('base64url'), sessionId, issuedAt: Math.floor(deps.clock.now().getTime() / 1000) * 1000 };
  const body = `${cookie.issuedAt / 1000}.${cookie.nonce}.${sessionId ?? '-'}`;
  const url = new URL(deps.config.api.externalUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}${HOSTED_PAGES_PATH}`;
  const loopback = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const attributes = [`Path=${path}`, 'HttpOnly', 'SameSite=Lax', ...(loopback ? [] : ['Secure'])];
  res.append('Set-Cookie', [`${PAGE_COOKIE}=v1.${body}.${mac(deps, 'cookie', body)}`, ...attributes].join('; '));
  return cookie;
}

/** The CSRF token of the forms shown with this cookie. */
export const csrfToken = (deps: Pick<Deps, 'config'>, cookie: PageCookie) => mac(deps, 'csrf', `${cookie.nonce}.${cookie.sessionId ?? '-'}`);

/** A form post must carry the CSRF token of the cookie it came with: else 403 oauth_page_csrf_failed. */
export function checkCsrf(deps: Pick<Deps, 'config'>, cookie: PageCookie | undefined, given: string | undefined): asserts cookie is PageCookie {
  if (!cookie || !given || !sameSecret(given, csrfToken(deps, cookie))) {
    throw forbidden(ErrorCodes.oauthPageCsrfFailed, 'This form has expired or did not come from this page. Go back to the app and start again.');
  }
}

/** The live session the cookie names (domain findLiveSession), or undefined: the page signs the user in. */
export async function pageSession(deps: Pick<Deps, 'db' | 'config' | 'clock'>, cookie: PageCookie | undefined): Promise<LiveSession | undefined> {
  if (!cookie?.sessionId) return undefined;
  return findLiveSession(deps.db, deps.config.sessions, cookie.sessionId, deps.clock.now());
}

/** How the session signed in, as the consent rules read it: its newest AMR entry's time, its methods, its AAL. */
export function signInOf(s: LiveSession): SignIn {
  const newest = Math.max(0, ...s.amr.map((e) => e.timestamp));
  return { time: new Date(newest * 1000), methods: s.amr.map((e) => e.method).slice(0, 8), aal: s.aal };
}

/** The session as the MFA flows take their caller (they read the user, the session id and is_anonymous). */
export function callerOf(s: LiveSession): AuthenticatedUser {
  return { user: s.user, sessionId: s.sessionId, claims: { sub: s.user.id, session_id: s.sessionId, aal: s.aal, is_anonymous: s.user.is_anonymous } };
}
