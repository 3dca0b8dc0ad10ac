import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { clientIdHost, getClient, type OauthClient, publicClientId } from '../../domain/oauth-clients';
import { answerAuthorization, hostedPagesOn, openAuthorization, parseScopes, peekAuthorization, signInTooOld } from '../../domain/oauth-server';
import type { LiveSession } from '../../domain/user-sessions';
import { ApiError, badRequest, notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { logApiError, toApiError } from '../../http/error-handler';
import { optString, queryString } from '../../http/fields';
import { verifyTotpCode } from '../../services/mfa';
import { passwordSession } from '../../services/password-grant';
import { callerOf, checkCsrf, csrfToken, pageSession, type PageCookie, readPageCookie, signInOf, startPageCookie } from './browser-session';
import type { SafeHtml } from './html';
import { consentPage, enrolPage, messagePage, signInPage, STYLE_HASH, totpPage } from './views';

/**
 * Hosted pages (issue 15, GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED): a minimal sign-in, TOTP and consent UI for
 * trying the provider without a consent page of one's own. Every step is the API's own code: the password grant's
 * sign-in step (and its rate limit), MFA verify's step (and its rate limit), the consent rules of openAuthorization /
 * answerAuthorization. The pages hold a session by reference (their cookie), so neither step mints a token.
 * GET /oauth/pages/consent?authorization_id= shows whatever step the browser is at; each form posts, then goes
 * back there with a 303, and the consent answer 303s to the client's redirect_uri.
 */

export { hostedPagesOn };

/** 404 unless the OAuth server is on, the hosted pages are enabled and no app consent page is configured. */
export const requireHostedPages =
  (deps: Pick<Deps, 'config'>): RequestHandler =>
  (_req, _res, next) => {
    if (hostedPagesOn(deps.config.oauthServer)) next();
    else next(notFound(ErrorCodes.notFound, 'Not Found'));
  };

/**
 * The CSP's form-action: this origin, and the client's redirect URI, to which a form's answer (or the consent step
 * after sign-in) redirects; browsers check form-action on the redirects after a form post.
 */
function formTarget(redirectUri: string | undefined): string {
  if (!redirectUri) return '';
  try {
    const u = new URL(redirectUri);
    return u.protocol === 'http:' || u.protocol === 'https:' ? ` ${u.origin}` : ` ${u.protocol}`;
  } catch {
    return '';
  }
}

/** Sends a page: HTML, never cached, never framed, no script at all, styles only the pages' own. */
function sendPage(res: Response, status: number, page: SafeHtml, redirectUri?: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src ${STYLE_HASH}; img-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'${formTarget(redirectUri)}`,
  );
  res.send(page.value);
}

/** Back to the step page of this request (relative: the pages work under any path prefix). */
const stepUrl = (authorizationId: string) => `consent?authorization_id=${encodeURIComponent(authorizationId)}`;

/** The app's name, else its public client id (a metadata document's URL, never the internal row id). */
const appNameOf = (client: OauthClient) => client.client_name || publicClientId(client);

/** The user's TOTP factors as the code form lists them. */
const factorChoices = (s: LiveSession) => s.totpFactors.map((f) => ({ id: f.id, name: f.friendly_name || 'Authenticator app' }));

/** A refused form shown again: its page with the error, the status and x-sb-error-code of the refusal. */
function refuse(res: Response, err: ApiError, page: SafeHtml, redirectUri: string): undefined {
  res.setHeader('x-sb-error-code', err.code);
  sendPage(res, err.status, page, redirectUri);
  return undefined;
}

/** What every form post of a step starts with: the page cookie, its CSRF token checked, the request and its client. */
async function openForm(deps: Deps, cookieHeader: string | undefined, body: { csrf_token?: string; authorization_id?: string }) {
  const cookie = readPageCookie(deps, cookieHeader);
  checkCsrf(deps, cookie, body.csrf_token);
  const authorizationId = body.authorization_id ?? '';
  return { cookie, authorizationId, ...(await requestOf(deps, authorizationId)) };
}

/** The pending request and its client, or the thrown not found / no longer pending (shown as a page). */
async function requestOf(deps: Deps, authorizationId: string) {
  if (!authorizationId) throw badRequest(ErrorCodes.validationFailed, 'authorization_id is required');
  const a = await peekAuthorization(deps, authorizationId);
  return { a, client: await getClient(deps, a.client_id) };
}

/**
 * The step a browser is at: no live session (or one too old for prompt=login / max_age: domain signInTooOld) → sign in; an aal1 session of a
 * user with a TOTP factor → the code; the client requires MFA the user cannot give → "add a second factor";
 * a grant that already covers the scopes → straight back to the client; else the consent question.
 */
async function showStep(deps: Deps, res: Response, authorizationId: string, cookie: PageCookie | undefined): Promise<void> {
  const { a, client } = await requestOf(deps, authorizationId);
  const s = await pageSession(deps, cookie);
  if (!s || signInTooOld(a, signInOf(s), deps.clock.now())) {
    const fresh = cookie && !cookie.sessionId ? cookie : startPageCookie(deps, res, null);
    sendPage(res, 200, signInPage({ authorizationId, csrf: csrfToken(deps, fresh), appName: appNameOf(client) }), a.redirect_uri);
    return;
  }
  const csrf = csrfToken(deps, cookie!);
  if (s.aal !== 'aal2' && s.totpFactors.length > 0) {
    sendPage(res, 200, totpPage({ authorizationId, csrf, appName: appNameOf(client), factors: factorChoices(s) }), a.redirect_uri);
    return;
  }
  let view;
  try {
    view = await openAuthorization(deps, authorizationId, s.user.id, signInOf(s));
  } catch (err) {
    if (err instanceof ApiError && (err.code === ErrorCodes.insufficientAal || err.code === ErrorCodes.mfaEnrollmentRequired)) {
      refuse(res, err, enrolPage({ authorizationId, csrf, appName: appNameOf(client), hasOtherFactor: s.hasVerifiedFactor }), a.redirect_uri);
      return;
    }
    throw err;
  }
  if (view.kind === 'redirect') {
    res.redirect(303, view.redirectUrl);
    return;
  }
  const page = consentPage({ authorizationId, csrf, appName: appNameOf(client), clientIdHost: clientIdHost(client), clientUri: client.client_uri, email: s.user.email ?? s.user.phone ?? '', scopes: parseScopes(a.scope) });
  sendPage(res, 200, page, a.redirect_uri);
}

const StepQuery = z.object({ authorization_id: queryString(128) });

/** GET /oauth/pages/consent?authorization_id= → the page of the step the browser is at (see showStep). */
export const pageStep = endpoint({ auth: 'none', query: StepQuery }, async ({ query, req, res }, deps) => {
  await showStep(deps, res, query.authorization_id, readPageCookie(deps, req.header('cookie')));
  return undefined;
});

const FormFields = { csrf_token: optString(256), authorization_id: optString(128) };
const SignInForm = z.object({ ...FormFields, email: optString(255), password: optString(1024) });

/**
 * POST /oauth/pages/sign-in {email, password}: the password grant's sign-in step (its rules, its rate limit), which
 * starts a session without tokens (the cookie names it; nothing is minted, no refresh token written). Signed in, the
 * browser gets a new cookie naming the session (a new nonce: a new CSRF token) and goes back to the step page;
 * refused, the form again with the grant's message (400, 429…), tied to the fields.
 */
export const pageSignIn = endpoint({ auth: 'none', body: SignInForm }, async ({ body, req, res, meta }, deps) => {
  const { cookie, authorizationId, a, client } = await openForm(deps, req.header('cookie'), body);
  const again = (err: ApiError, fields: ('email' | 'password')[]) =>
    refuse(res, err, signInPage({ authorizationId, csrf: csrfToken(deps, cookie), appName: appNameOf(client), email: body.email, error: { message: err.message, fields } }), a.redirect_uri);
  if (!body.email) return again(badRequest(ErrorCodes.validationFailed, 'Enter your email address.'), ['email']);
  if (!body.password) return again(badRequest(ErrorCodes.validationFailed, 'Enter your password.'), ['password']);
  let sessionId: string;
  try {
    sessionId = (await passwordSession(deps, meta, { email: body.email, password: body.password })).sessionId;
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) return again(err, ['email', 'password']);
    throw err;
  }
  startPageCookie(deps, res, sessionId);
  res.redirect(303, stepUrl(authorizationId));
  return undefined;
});

const TotpForm = z.object({ ...FormFields, factor_id: optString(64), code: optString(64) });

/**
 * POST /oauth/pages/mfa {factor_id, code}: the MFA verify step for one of the user's verified TOTP factors
 * (services/mfa verifyTotpCode, the /factors rules: replayed codes, the verification hook, the session raised to aal2
 * in place, the aal1 sessions ended), without a challenge row and without tokens, at the /factors verify rate; then
 * back to the step page. A wrong code: the form again with the message (422).
 */
export const pageTotp = endpoint({ auth: 'none', body: TotpForm }, async ({ body, req, res, meta }, deps) => {
  const { cookie, authorizationId, a, client } = await openForm(deps, req.header('cookie'), body);
  const s = await pageSession(deps, cookie);
  if (!s) {
    res.redirect(303, stepUrl(authorizationId));
    return undefined;
  }
  const factor = s.totpFactors.find((f) => f.id === body.factor_id);
  if (!factor) throw badRequest(ErrorCodes.validationFailed, 'Choose one of your authenticator apps.');
  const again = (err: ApiError) => refuse(res, err, totpPage({ authorizationId, csrf: csrfToken(deps, cookie), appName: appNameOf(client), factors: factorChoices(s), error: err.message }), a.redirect_uri);
  const code = (body.code ?? '').trim();
  if (!/^\d{6}$/.test(code)) return again(badRequest(ErrorCodes.validationFailed, 'Enter the 6-digit code from your authenticator app.'));
  try {
    await verifyTotpCode(deps, meta, callerOf(s), factor.id, code);
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) return again(err);
    throw err;
  }
  res.redirect(303, stepUrl(authorizationId));
  return undefined;
});

const ConsentForm = z.object({ ...FormFields, action: optString(16) });

/**
 * POST /oauth/pages/consent {action: approve|deny}: the consent API's answerAuthorization (only the user who opened
 * the request, once, MFA and freshness rules, the grant recorded) → 303 to the client's redirect_uri.
 */
export const pageConsent = endpoint({ auth: 'none', body: ConsentForm }, async ({ body, req, res }, deps) => {
  const cookie = readPageCookie(deps, req.header('cookie'));
  checkCsrf(deps, cookie, body.csrf_token);
  const authorizationId = body.authorization_id ?? '';
  if (body.action !== 'approve' && body.action !== 'deny') throw badRequest(ErrorCodes.validationFailed, "action must be 'approve' or 'deny'");
  const s = await pageSession(deps, cookie);
  if (!s) {
    res.redirect(303, stepUrl(authorizationId));
    return undefined;
  }
  res.redirect(303, await answerAuthorization(deps, authorizationId, s.user.id, body.action === 'approve', signInOf(s)));
  return undefined;
});

const TITLES: Record<number, string> = { 403: 'Not allowed', 404: 'Request not found', 429: 'Too many attempts' };

/**
 * Errors on /oauth/pages (a refused form, an unknown or expired request, a rate limit, a bad body) as an HTML page
 * with the message and code, logged as the one error handler logs them; x-sb-error-code is set as everywhere.
 */
export const pagesErrorHandler =
  (deps: Pick<Deps, 'logger'>): ErrorRequestHandler =>
  (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const e = toApiError(err);
    const errorId = String(req.id ?? '');
    logApiError(deps.logger, e, req.id, errorId);
    res.setHeader('x-sb-error-code', e.code);
    const message = e.status >= 500 ? `Something went wrong on our side. Please try again in a moment (error id ${errorId}).` : e.message;
    sendPage(res, e.status, messagePage(TITLES[e.status] ?? (e.status >= 500 ? 'Something went wrong' : 'This request cannot be completed'), message, e.code));
  };
