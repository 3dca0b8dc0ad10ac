import { sql } from 'kysely';
import * as oidc from 'openid-client';
import request from 'supertest';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpKey, totpCodeAt } from '../../src/crypto/totp';
import { systemRandom } from '../../src/crypto/clock';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver';
import { listenOnLoopback } from '../helpers/loopback';
import { ISSUER, oauthEnv, relyingParty } from '../helpers/oauth-server';
import { useTestApp, type TestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';

/** Issue 15 item 7: the hosted sign-in, TOTP and consent pages, driven form by form as a browser would. */

const pagesEnv = (extra: Record<string, string> = {}) => oauthEnv({ GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: '', GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED: 'true', ...extra });
const t = useTestApp({ listen: true, env: pagesEnv() });
const off = useTestApp({ db: t.db, env: oauthEnv({ GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: '' }) });
const withAppPage = useTestApp({ db: t.db, env: pagesEnv({ GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: '/oauth/consent' }) });
/**
 * Sign-in posts share the /token bucket: one per window here; code posts the /factors verify bucket: two per minute.
 * Per X-Test-Client (the store may be the shared database).
 */
const limited = useTestApp({ db: t.db, env: pagesEnv({ GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1', GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '2', GOTRUE_RATE_LIMIT_HEADER: 'X-Test-Client' }) });
/** The pages with the attempt hooks and the custom access token hook (which would hear of any token minted). */
let receiver: HookReceiver;
beforeAll(async () => {
  receiver = await startHookReceiver();
});
afterAll(() => receiver.close());
const HOOKS = ['password_verification_attempt', 'mfa_verification_attempt', 'custom_access_token'];
const hooked = useTestApp({
  db: t.db,
  env: () =>
    pagesEnv(
      Object.fromEntries(
        HOOKS.flatMap((k) => [
          [`GOTRUE_HOOK_${k.toUpperCase()}_ENABLED`, 'true'],
          [`GOTRUE_HOOK_${k.toUpperCase()}_URI`, `${receiver.url}/${k}`],
          [`GOTRUE_HOOK_${k.toUpperCase()}_SECRETS`, receiver.secret],
        ]),
      ),
    ),
});
/** Pages on https://…/auth/v1: the cookie is Secure and scoped to that path. */
const secure = useTestApp({ db: t.db, env: pagesEnv({ API_EXTERNAL_URL: 'https://auth.example.com/auth/v1' }) });
const REDIRECT = 'https://rp.example.com/callback';
const PASSWORD = 'correct-horse-battery';

/** A browser over supertest: keeps the page cookie, resolves relative Locations, reads the forms' hidden fields. */
class PageBrowser {
  cookie: string | undefined;
  url = `${ISSUER}/`;
  constructor(
    private readonly app: TestApp,
    private readonly headers: Record<string, string> = {},
  ) {}

  private keep(res: request.Response) {
    const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    for (const line of set) this.cookie = line.split(';')[0];
    return res;
  }
  private path(u: string) {
    const abs = new URL(u, this.url);
    this.url = abs.href;
    return abs.pathname + abs.search;
  }
  async get(u: string) {
    const req = request(this.app.app).get(this.path(u)).set(this.headers);
    return this.keep(await (this.cookie ? req.set('Cookie', this.cookie) : req));
  }
  async post(u: string, form: Record<string, string>) {
    const req = request(this.app.app).post(this.path(u)).set(this.headers).type('form').send(form);
    return this.keep(await (this.cookie ? req.set('Cookie', this.cookie) : req));
  }
  /** Where a 303 goes, absolute. */
  location(res: request.Response) {
    expect(res.status, res.text).toBe(303);
    return new URL(res.headers.location as string, this.url).href;
  }
}

const field = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

async function newClient(body: Record<string, unknown> = {}) {
  const r = await request(t.app).post('/admin/oauth/clients').set(adminHeaders(t.deps)).send({ client_name: 'Example RP', redirect_uris: [REDIRECT], ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { client_id: string; client_secret: string };
}

async function newUser() {
  const email = uniqueEmail('pages');
  const u = await adminCreate(t.app, t.deps, { email, password: PASSWORD, email_confirm: true });
  return { email, id: u.id };
}

/** A verified TOTP factor, as enrolment leaves it; returns its secret. */
async function addTotp(userId: string, name = 'phone app') {
  const { secret } = newTotpKey(systemRandom, 'test', 'pages');
  const now = new Date();
  await t.db.db
    .insertInto('mfa_factors')
    .values({ id: crypto.randomUUID(), user_id: userId, friendly_name: name, factor_type: 'totp', status: 'verified', created_at: now, updated_at: now, secret, phone: null })
    .execute();
  return secret;
}

/** The RP starts a flow: /oauth/authorize sends the browser to the hosted step page. */
async function startFlow(client: { client_id: string; client_secret: string }, b: PageBrowser, extra: Record<string, string> = {}) {
  const config = await relyingParty(t.url, client.client_id, oidc.ClientSecretBasic(client.client_secret));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra });
  const r = await b.get(url.href);
  expect(r.status).toBe(302);
  const step = r.headers.location as string;
  expect(step).toMatch(new RegExp(`^${ISSUER}/oauth/pages/consent\\?authorization_id=`));
  return { config, verifier, state, nonce, step, authorizationId: new URL(step).searchParams.get('authorization_id')! };
}

/** The session the page cookie names (`v1.<issued>.<nonce>.<session id>.<mac>`). */
const cookieSession = (b: PageBrowser) => b.cookie?.split('=')[1]?.split('.')[3];

/** What the database holds for a page session: its refresh tokens, the AAL it records. */
async function sessionRows(sessionId: string) {
  const tokens = await t.db.db.selectFrom('refresh_tokens').select('id').where('session_id', '=', sessionId).execute();
  const session = await t.db.db.selectFrom('sessions').select(['aal', 'factor_id']).where('id', '=', sessionId).executeTakeFirst();
  return { tokens: tokens.length, aal: session?.aal, factorId: session?.factor_id };
}

/** A wrong code for the secret now (the right one plus one). */
const wrongCodeOf = (secret: string) => String((Number(totpCodeAt(secret, new Date())) + 1) % 1_000_000).padStart(6, '0');

async function signIn(b: PageBrowser, step: string, email: string, password = PASSWORD) {
  const page = await b.get(step);
  expect(page.status).toBe(200);
  return b.post('sign-in', { csrf_token: field(page.text, 'csrf_token'), authorization_id: field(page.text, 'authorization_id'), email, password });
}

describe(`hosted OAuth pages (${dbKind})`, () => {
  let client: { client_id: string; client_secret: string };
  beforeAll(async () => {
    client = await newClient();
  });

  it('are 404 while the setting is off (and /oauth/authorize has nowhere to send the browser), and while an app consent page is configured', async () => {
    expect((await request(off.app).get('/oauth/pages/consent?authorization_id=x')).status).toBe(404);
    expect((await request(off.app).post('/oauth/pages/sign-in').type('form').send({ email: 'a@example.com' })).status).toBe(404);
    const r = await request(off.app).get('/oauth/authorize').query({ client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    expect(new URL(r.headers.location as string).searchParams.get('error')).toBe('server_error');
    expect((await request(withAppPage.app).get('/oauth/pages/consent?authorization_id=x')).status).toBe(404);
  });

  it('the sign-in page: accessible HTML, a strict CSP, never framed or cached, an HttpOnly SameSite=Lax cookie on /oauth/pages', async () => {
    const b = new PageBrowser(t);
    const { step } = await startFlow(client, b);
    const r = await b.get(step);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-frame-options']).toBe('DENY');
    const csp = r.headers['content-security-policy'] as string;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/form-action 'self' https:\/\/rp\.example\.com(;|$)/);
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    const cookie = ([] as string[]).concat(r.headers['set-cookie'] ?? [])[0]!;
    expect(cookie).toMatch(/^sb-oauth-pages=v1\./);
    expect(cookie).toMatch(/; Path=\/oauth\/pages; HttpOnly; SameSite=Lax$/); // http://localhost: not Secure
    expect(r.text).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(r.text).toContain('<main>');
    expect(r.text).not.toContain('<script');
    expect(r.text).toMatch(/<label for="email">Email<\/label>\n<input id="email" name="email" type="email" autocomplete="username" required/);
    expect(r.text).toMatch(/<label for="password">Password<\/label>\n<input id="password" name="password" type="password" autocomplete="current-password"/);
    expect(r.text).toContain('Example RP');
  });

  it('the cookie is Secure, and scoped to the API path, when the pages are not on http://localhost', async () => {
    const flow = await request(secure.app)
      .get('/oauth/authorize')
      .query({ client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const step = new URL(flow.headers.location as string);
    expect(step.origin + step.pathname).toBe('https://auth.example.com/auth/v1/oauth/pages/consent');
    const r = await request(secure.app).get(step.pathname + step.search);
    expect(r.status).toBe(200);
    expect(([] as string[]).concat(r.headers['set-cookie'] ?? [])[0]).toMatch(/; Path=\/auth\/v1\/oauth\/pages; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('a wrong password: 400, the form again with the message tied to the fields, the email kept; no session cookie', async () => {
    const u = await newUser();
    const b = new PageBrowser(t);
    const { step } = await startFlow(client, b);
    const r = await signIn(b, step, u.email, 'wrong-password');
    expect(r.status).toBe(400);
    expect(r.headers['x-sb-error-code']).toBe('invalid_credentials');
    expect(r.text).toContain('<p id="sign-in-error" class="error" role="alert">Invalid login credentials</p>');
    expect(r.text).toMatch(/name="password" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="sign-in-error"/);
    expect(r.text).toContain(`autocomplete="username" required value="${u.email}" aria-invalid="true"`);
    expect(r.headers['set-cookie']).toBeUndefined();
    // An empty field is named as such, and the retry with the same token works.
    const empty = await b.post('sign-in', { csrf_token: field(r.text, 'csrf_token'), authorization_id: field(r.text, 'authorization_id'), email: '', password: 'x' });
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/name="email" type="email" autocomplete="username" required value="" aria-invalid="true"/);
    expect(b.location(await b.post('sign-in', { csrf_token: field(r.text, 'csrf_token'), authorization_id: field(r.text, 'authorization_id'), email: u.email, password: PASSWORD }))).toContain('/oauth/pages/consent?authorization_id=');
  });

  it('refuses a form without the CSRF token of its cookie: 403 oauth_page_csrf_failed, as an HTML page', async () => {
    const u = await newUser();
    const b = new PageBrowser(t);
    const { step, authorizationId } = await startFlow(client, b);
    const page = await b.get(step);
    const csrf = field(page.text, 'csrf_token');
    const form = { authorization_id: authorizationId, email: u.email, password: PASSWORD };
    const cases: [string, Record<string, string>, string | undefined][] = [
      ['no token', form, b.cookie],
      ['a wrong token', { ...form, csrf_token: csrf.slice(0, -2) + 'xx' }, b.cookie],
      ['no cookie', { ...form, csrf_token: csrf }, undefined],
      ['a forged cookie', { ...form, csrf_token: csrf }, b.cookie!.replace(/\.[^.]+$/, '.' + 'A'.repeat(43))],
    ];
    for (const [label, body, cookie] of cases) {
      const req = request(t.app).post('/oauth/pages/sign-in').type('form').send(body);
      const r = await (cookie ? req.set('Cookie', cookie) : req);
      expect([label, r.status, r.headers['x-sb-error-code']]).toEqual([label, 403, 'oauth_page_csrf_failed']);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.text).toContain('oauth_page_csrf_failed');
    }
    // The token before sign-in is worthless after it: the nonce changed with the session.
    await b.post('sign-in', { ...form, csrf_token: csrf });
    const consent = await b.post('consent', { csrf_token: csrf, authorization_id: authorizationId, action: 'approve' });
    expect([consent.status, consent.headers['x-sb-error-code']]).toEqual([403, 'oauth_page_csrf_failed']);
  });

  it('sign in → consent (the app, the scopes) → approve → a code openid-client exchanges for tokens of that user', async () => {
    const u = await newUser();
    const b = new PageBrowser(t);
    const flow = await startFlow(client, b);
    const consent = await b.get(b.location(await signIn(b, flow.step, u.email)));
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('<h1>Allow Example RP to access your account?</h1>');
    expect(consent.text).not.toContain('describes itself'); // a registered client: no document host to show
    expect(consent.text).toContain(u.email);
    expect(consent.text).toMatch(/<li>Confirm your identity <code>openid<\/code><\/li>\s*<li>See your email address <code>email<\/code><\/li>/);
    const back = b.location(await b.post('consent', { csrf_token: field(consent.text, 'csrf_token'), authorization_id: flow.authorizationId, action: 'approve' }));
    expect(back.startsWith(`${REDIRECT}?code=`)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(back), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    expect(tokens.claims()!.sub).toBe(u.id);
    expect(tokens.claims()!.email).toBe(u.email);
    // The granted app is remembered: the next request goes straight back with a code (the session cookie still holds).
    const again = await startFlow(client, b);
    expect(b.location(await b.get(again.step))).toMatch(/^https:\/\/rp\.example\.com\/callback\?code=/);
  });

  it('deny → access_denied on the redirect URI, with the state', async () => {
    const u = await newUser();
    const b = new PageBrowser(t);
    const flow = await startFlow(client, b);
    const consent = await b.get(b.location(await signIn(b, flow.step, u.email)));
    const back = new URL(b.location(await b.post('consent', { csrf_token: field(consent.text, 'csrf_token'), authorization_id: flow.authorizationId, action: 'deny' })));
    expect([back.origin + back.pathname, back.searchParams.get('error'), back.searchParams.get('state')]).toEqual([REDIRECT, 'access_denied', flow.state]);
    // Answered once: the page now says so, as HTML.
    const gone = await b.get(flow.step);
    expect([gone.status, gone.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    expect(gone.text).toContain('no longer pending');
  });

  it("escapes a hostile client's name on every page", async () => {
    const hostile = await newClient({ client_name: `<script>alert(1)</script>"'&` });
    const u = await newUser();
    const b = new PageBrowser(t);
    const flow = await startFlow(hostile, b);
    const signInPage = await b.get(flow.step);
    const consent = await b.get(b.location(await signIn(b, flow.step, u.email)));
    for (const text of [signInPage.text, consent.text]) {
      expect(text).not.toContain('<script>');
      expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    }
  });

  it('a user with a TOTP factor: the code step after the password (a wrong code is 422 and asked again), then consent; the token is aal2', async () => {
    const u = await newUser();
    const secret = await addTotp(u.id);
    const b = new PageBrowser(t);
    const flow = await startFlow(client, b);
    const totp = await b.get(b.location(await signIn(b, flow.step, u.email)));
    expect(totp.status).toBe(200);
    expect(totp.text).toContain('<h1>Two-factor authentication</h1>');
    expect(totp.text).toMatch(/<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"/);
    const wrongCode = wrongCodeOf(secret);
    const form = { csrf_token: field(totp.text, 'csrf_token'), authorization_id: flow.authorizationId, factor_id: field(totp.text, 'factor_id') };
    const wrong = await b.post('mfa', { ...form, code: wrongCode });
    expect([wrong.status, wrong.headers['x-sb-error-code']]).toEqual([422, 'mfa_verification_failed']);
    expect(wrong.text).toMatch(/<p id="code-error" class="error" role="alert">Invalid TOTP code entered<\/p>/);
    // Until the code is right, the step page asks for it (consent is not offered).
    expect((await b.get(flow.step)).text).toContain('Two-factor authentication');
    const consent = await b.get(b.location(await b.post('mfa', { ...form, code: totpCodeAt(secret, new Date()) })));
    expect(consent.text).toContain('Allow Example RP');
    const back = b.location(await b.post('consent', { csrf_token: form.csrf_token, authorization_id: flow.authorizationId, action: 'approve' }));
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(back), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    expect(tokens.claims()!.acr).toBe('aal2');
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(['totp', 'password']));
  });

  it('mints nothing: the sign-in starts a session with no refresh token, the code raises it to aal2 in place without a challenge row', async () => {
    const u = await newUser();
    const secret = await addTotp(u.id);
    const factorId = (await t.db.db.selectFrom('mfa_factors').select('id').where('user_id', '=', u.id).executeTakeFirstOrThrow()).id;
    // Another sign-in of the user, by the API: an aal1 session that ends when the page raises its own.
    const api = await request(t.app).post('/token?grant_type=password').send({ email: u.email, password: PASSWORD });
    expect(api.status).toBe(200);
    const apiSession = JSON.parse(Buffer.from((api.body.access_token as string).split('.')[1]!, 'base64url').toString()).session_id as string;
    const b = new PageBrowser(t);
    const flow = await startFlow(client, b);
    const totp = await b.get(b.location(await signIn(b, flow.step, u.email)));
    const sessionId = cookieSession(b)!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await sessionRows(sessionId)).toEqual({ tokens: 0, aal: 'aal1', factorId: null });
    const logins = await t.db.db.selectFrom('audit_log_entries').select('payload').where(sql`payload->>'actor_id'`, '=', u.id).where(sql`payload->>'action'`, '=', 'login').execute();
    expect(logins).toHaveLength(2); // the API's and the page's sign-in are audited alike
    const form = { csrf_token: field(totp.text, 'csrf_token'), authorization_id: flow.authorizationId, factor_id: factorId };
    expect((await b.post('mfa', { ...form, code: wrongCodeOf(secret) })).status).toBe(422);
    const code = totpCodeAt(secret, new Date());
    const consent = await b.get(b.location(await b.post('mfa', { ...form, code })));
    expect(consent.text).toContain('Allow Example RP');
    expect(await sessionRows(sessionId)).toEqual({ tokens: 0, aal: 'aal2', factorId });
    const amr = await t.db.db.selectFrom('mfa_amr_claims').select('authentication_method').where('session_id', '=', sessionId).execute();
    expect(amr.map((r) => r.authentication_method).sort()).toEqual(['password', 'totp']);
    expect(await t.db.db.selectFrom('mfa_challenges').select('id').where('factor_id', '=', factorId).execute()).toEqual([]);
    const attempts = await t.db.db.selectFrom('audit_log_entries').select('payload').where(sql`payload->>'actor_id'`, '=', u.id).where(sql`payload->>'action'`, 'in', ['verification_attempted', 'challenge_created']).execute();
    expect(attempts.map((r) => (r.payload as { action: string }).action)).toEqual(['verification_attempted']);
    // GoTrue's rule: verifying ends the user's aal1 sessions.
    expect(await t.db.db.selectFrom('sessions').select('id').where('id', '=', apiSession).execute()).toEqual([]);
    // The accepted code cannot be used again (the factor's last time step), on the page as on the API.
    const replay = await b.post('mfa', { ...form, code });
    expect([replay.status, replay.headers['x-sb-error-code']]).toEqual([422, 'mfa_verification_failed']);
    // The client's tokens come from the code grant's own session; the page's still holds none.
    const back = b.location(await b.post('consent', { csrf_token: form.csrf_token, authorization_id: flow.authorizationId, action: 'approve' }));
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(back), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    expect(tokens.claims()!.sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens.claims()!.sid).not.toBe(sessionId);
    expect((await sessionRows(sessionId)).tokens).toBe(0);
  });

  it("code posts count in the /factors verify rate-limit bucket: over it, a 429 HTML page", async () => {
    const u = await newUser();
    const secret = await addTotp(u.id);
    const b = new PageBrowser(limited, { 'X-Test-Client': crypto.randomUUID() });
    const r = await request(limited.app).get('/oauth/authorize').query({ client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const page = await b.get(r.headers.location as string);
    const authorizationId = field(page.text, 'authorization_id');
    const totp = await b.get(b.location(await b.post('sign-in', { csrf_token: field(page.text, 'csrf_token'), authorization_id: authorizationId, email: u.email, password: PASSWORD })));
    const form = { csrf_token: field(totp.text, 'csrf_token'), authorization_id: authorizationId, factor_id: field(totp.text, 'factor_id') };
    for (let i = 0; i < 2; i++) expect((await b.post('mfa', { ...form, code: wrongCodeOf(secret) })).status).toBe(422);
    const over = await b.post('mfa', { ...form, code: totpCodeAt(secret, new Date()) });
    expect([over.status, over.headers['x-sb-error-code'], over.headers['content-type']]).toEqual([429, 'over_request_rate_limit', expect.stringMatching(/^text\/html/)]);
    expect((await sessionRows(cookieSession(b)!)).aal).toBe('aal1');
  });

  it('the attempt hooks hear every page attempt and their rejections refuse it; no access token is made (the custom access token hook is never called)', async () => {
    receiver.reset();
    const u = await newUser();
    const secret = await addTotp(u.id);
    const b = new PageBrowser(hooked);
    const r = await request(hooked.app).get('/oauth/authorize').query({ client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const page = await b.get(r.headers.location as string);
    const signInForm = { csrf_token: field(page.text, 'csrf_token'), authorization_id: field(page.text, 'authorization_id'), email: u.email };
    receiver.answer('/password_verification_attempt', () => ({ status: 200, body: { decision: 'reject', message: 'Too many attempts' } }));
    const refused = await b.post('sign-in', { ...signInForm, password: PASSWORD });
    expect([refused.status, refused.headers['x-sb-error-code']]).toEqual([400, 'invalid_credentials']);
    expect(refused.text).toContain('Too many attempts');
    receiver.answer('/password_verification_attempt', () => ({ status: 200, body: { decision: 'continue' } }));
    const totp = await b.get(b.location(await b.post('sign-in', { ...signInForm, password: PASSWORD })));
    expect(totp.text).toContain('Two-factor authentication');
    expect(receiver.callsTo('/password_verification_attempt').map((c) => [c.body.user_id, c.body.valid])).toEqual([
      [u.id, true],
      [u.id, true],
    ]);
    const sessionId = cookieSession(b)!;
    const form = { csrf_token: field(totp.text, 'csrf_token'), authorization_id: signInForm.authorization_id, factor_id: field(totp.text, 'factor_id') };
    expect((await b.post('mfa', { ...form, code: wrongCodeOf(secret) })).status).toBe(422);
    receiver.answer('/mfa_verification_attempt', () => ({ status: 200, body: { decision: 'reject', message: 'Locked out' } }));
    const rejected = await b.post('mfa', { ...form, code: totpCodeAt(secret, new Date()) });
    expect([rejected.status, rejected.headers['x-sb-error-code']]).toEqual([403, 'mfa_verification_rejected']);
    expect(receiver.callsTo('/mfa_verification_attempt').map((c) => [c.body.factor_id, c.body.valid])).toEqual([
      [form.factor_id, false],
      [form.factor_id, true],
    ]);
    // The rejection ended the user's sessions, the page's too: the browser is asked to sign in again.
    expect((await sessionRows(sessionId)).aal).toBeUndefined();
    expect((await b.get(`consent?authorization_id=${form.authorization_id}`)).text).toContain('<h1>Sign in</h1>');
    expect(receiver.callsTo('/custom_access_token')).toEqual([]);
    // The hook is wired: the API's password grant, which mints, calls it.
    receiver.answer('/custom_access_token', (call) => ({ status: 200, body: { claims: call.body.claims } }));
    expect((await request(hooked.app).post('/token?grant_type=password').send({ email: u.email, password: PASSWORD })).status).toBe(200);
    expect(receiver.callsTo('/custom_access_token')).toHaveLength(1);
  });

  it('a client requiring MFA and a user with no factor: the "add a second factor" page (403), whose button returns access_denied', async () => {
    const strict = await newClient({ require_mfa: true });
    const u = await newUser();
    const b = new PageBrowser(t);
    const flow = await startFlow(strict, b);
    const page = await b.get(b.location(await signIn(b, flow.step, u.email)));
    expect([page.status, page.headers['x-sb-error-code']]).toEqual([403, 'mfa_enrollment_required']);
    expect(page.text).toContain('<h1>Add a second factor to use this app</h1>');
    const back = new URL(b.location(await b.post('consent', { csrf_token: field(page.text, 'csrf_token'), authorization_id: flow.authorizationId, action: 'deny' })));
    expect(back.searchParams.get('error')).toBe('access_denied');
  });

  it('prompt=login: a browser already signed in is asked to sign in again before consent', async () => {
    const u = await newUser();
    const b = new PageBrowser(t);
    const first = await startFlow(client, b);
    await b.get(b.location(await signIn(b, first.step, u.email)));
    await new Promise((r) => setTimeout(r, 2100)); // sign-in times are whole seconds, and a second of slack is allowed
    const again = await startFlow(client, b, { prompt: 'login consent' });
    const page = await b.get(again.step);
    expect(page.text).toContain('<h1>Sign in</h1>');
    const consent = await b.get(b.location(await b.post('sign-in', { csrf_token: field(page.text, 'csrf_token'), authorization_id: again.authorizationId, email: u.email, password: PASSWORD })));
    expect(consent.text).toContain('Allow Example RP');
  });

  it("sign-in posts count in the password grant's rate-limit bucket: over it, a 429 HTML page", async () => {
    const b = new PageBrowser(limited, { 'X-Test-Client': crypto.randomUUID() });
    const r = await request(limited.app).get('/oauth/authorize').query({ client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const page = await b.get(r.headers.location as string);
    const form = { csrf_token: field(page.text, 'csrf_token'), authorization_id: field(page.text, 'authorization_id'), email: 'nobody@example.com', password: 'x' };
    expect((await b.post('sign-in', form)).status).toBe(400);
    const over = await b.post('sign-in', form);
    expect([over.status, over.headers['x-sb-error-code'], over.headers['content-type']]).toEqual([429, 'over_request_rate_limit', expect.stringMatching(/^text\/html/)]);
    expect(over.text).toContain('<h1>Too many attempts</h1>');
  });

  it('bad input is a 4xx HTML page: an unknown request, no authorization_id, an unknown action', async () => {
    const unknown = await request(t.app).get('/oauth/pages/consent?authorization_id=nope');
    expect([unknown.status, unknown.headers['x-sb-error-code']]).toEqual([404, 'oauth_authorization_not_found']);
    expect(unknown.headers['content-type']).toMatch(/^text\/html/);
    expect(unknown.headers['content-security-policy']).toMatch(/form-action 'self'$/);
    const none = await request(t.app).get('/oauth/pages/consent');
    expect([none.status, none.headers['content-type']]).toEqual([400, expect.stringMatching(/^text\/html/)]);
    const b = new PageBrowser(t);
    const flow = await startFlow(client, b);
    const page = await b.get(flow.step);
    const odd = await b.post('consent', { csrf_token: field(page.text, 'csrf_token'), authorization_id: flow.authorizationId, action: 'maybe' });
    expect([odd.status, odd.headers['x-sb-error-code']]).toEqual([400, 'validation_failed']);
    const tooLong = await b.post('sign-in', { csrf_token: field(page.text, 'csrf_token'), authorization_id: flow.authorizationId, email: 'x'.repeat(300) });
    expect([tooLong.status, tooLong.headers['content-type']]).toEqual([400, expect.stringMatching(/^text\/html/)]);
  });
});

describe('the hosted consent page for a Client ID Metadata Document client', () => {
  /** The client's documents: each path serves a valid document naming itself "Google Drive". */
  let docs: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    docs = await listenOnLoopback(
      createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: `${docs.url}${req.url}`, client_name: 'Google Drive', redirect_uris: [REDIRECT] }))),
    );
  });
  afterAll(() => docs.close());
  const cimd = useTestApp({ db: t.db, env: () => pagesEnv({ GOTRUE_OAUTH_SERVER_CIMD_ENABLED: 'true', GOTRUE_OAUTH_SERVER_CIMD_TESTING_ONLY_INSECURE_ORIGINS: docs.url }) });

  it('shows the host the document is served from beside the name the document chose', async () => {
    const u = await newUser();
    const b = new PageBrowser(cimd);
    const q = new URLSearchParams({ client_id: `${docs.url}/drive.json`, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    const start = await b.get(`/oauth/authorize?${q}`);
    expect(start.status, start.text).toBe(302);
    const consent = await b.get(b.location(await signIn(b, start.headers.location as string, u.email)));
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('<h1>Allow Google Drive to access your account?</h1>');
    expect(consent.text).toContain(`This app describes itself from <strong>${new URL(docs.url).host}</strong>`);
  });
});
