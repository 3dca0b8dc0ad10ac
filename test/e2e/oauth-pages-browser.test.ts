import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { systemRandom } from '../../src/crypto/clock';
import { newTotpKey, totpCodeAt } from '../../src/crypto/totp';
import type { Deps } from '../../src/deps';
import { adminCreate, adminHeaders } from '../helpers/admin';
import { listenOnLoopback } from '../helpers/loopback';
import { oauthEnv } from '../helpers/oauth-server';
import { dbKind, openTestDatabase, type TestDatabase } from '../helpers/test-db';
import { testDeps, uniqueEmail } from '../helpers/test-server';

/**
 * Issue 15 item 7 in a real browser: an openid-client relying party starts the flow, headless Chromium (Debian's
 * `chromium`, driven by playwright-core) fills the hosted sign-in, TOTP and consent pages, and the RP's callback
 * exchanges the code for tokens. Also checks that the pages' CSP blocks nothing they need (the form posts and the
 * redirects after them). Without a Chromium binary the file is skipped, saying so, unless CI=true: then it fails.
 */

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const executablePath = CANDIDATES.find((p): p is string => !!p && existsSync(p));
const inCi = process.env.CI === 'true';
if (!executablePath && !inCi) console.warn('oauth-pages-browser: skipped, no Chromium binary found (apt-get install chromium, or set CHROMIUM_PATH)');

const PASSWORD = 'correct-horse-battery';

/** A loopback server whose URL is known before the app is built (API_EXTERNAL_URL must be the URL the browser uses). */
async function loopbackServer() {
  let handler: RequestListener = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  const { url, close } = await listenOnLoopback(server);
  return { url, close, handle: (h: RequestListener) => (handler = h) };
}

describe.skipIf(!executablePath && !inCi)(`hosted OAuth pages in headless Chromium (${dbKind})`, () => {
  let db: TestDatabase;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;
  let auth: Awaited<ReturnType<typeof loopbackServer>>;
  let rp: Awaited<ReturnType<typeof loopbackServer>>;
  let browser: Browser;
  /** What the RP's callback got, per state. */
  const signedIn = new Map<string, oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>();

  beforeAll(async () => {
    if (!executablePath) throw new Error('CI=true and no Chromium binary found: .ci/run installs Debian chromium (apt-get install chromium)');
    db = await openTestDatabase();
    auth = await loopbackServer();
    rp = await loopbackServer();
    deps = testDeps(db, oauthEnv({ API_EXTERNAL_URL: auth.url, GOTRUE_OAUTH_SERVER_AUTHORIZATION_PATH: '', GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED: 'true' }));
    app = createApp(deps);
    auth.handle(app);

    // The relying party: /login starts the flow (PKCE, state, nonce), /callback exchanges the code.
    const created = await request(app).post('/admin/oauth/clients').set(adminHeaders(deps)).send({ client_name: 'Browser RP', redirect_uris: [`${rp.url}/callback`] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const client = created.body as { client_id: string; client_secret: string };
    const config = await oidc.discovery(new URL(auth.url), client.client_id, {}, oidc.ClientSecretBasic(client.client_secret), { execute: [oidc.allowInsecureRequests] });
    const pending = new Map<string, { verifier: string; nonce: string }>();
    rp.handle((req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        const here = new URL(req.url!, rp.url);
        if (here.pathname === '/login') {
          const verifier = oidc.randomPKCECodeVerifier();
          const state = oidc.randomState();
          const nonce = oidc.randomNonce();
          pending.set(state, { verifier, nonce });
          const to = oidc.buildAuthorizationUrl(config, { redirect_uri: `${rp.url}/callback`, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
          res.writeHead(302, { location: to.href }).end();
          return;
        }
        const state = here.searchParams.get('state') ?? '';
        const flow = pending.get(state);
        if (here.pathname !== '/callback' || !flow) return void res.writeHead(404).end();
        if (here.searchParams.get('error')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`error: ${here.searchParams.get('error')}`);
        const tokens = await oidc.authorizationCodeGrant(config, here, { pkceCodeVerifier: flow.verifier, expectedState: state, expectedNonce: flow.nonce, idTokenExpected: true });
        signedIn.set(state, tokens);
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`signed in as ${tokens.claims()!.sub}`);
      })().catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)));
    });

    browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  });

  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await auth?.close();
    await db?.close();
  });

  /** A fresh browser context (no cookies) whose CSP reports are collected. */
  async function newPage(): Promise<{ page: Page; refused: string[] }> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000); // a step the CSP blocks never arrives: fail well before the test's timeout
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    return { page, refused };
  }

  async function newUser() {
    const email = uniqueEmail('browser');
    return { email, id: (await adminCreate(app, deps, { email, password: PASSWORD, email_confirm: true })).id };
  }

  it('sign in → consent → approve: the RP gets tokens for the user, and the CSP refused nothing', async () => {
    const u = await newUser();
    const { page, refused } = await newPage();
    await page.goto(`${rp.url}/login`);
    expect(await page.title()).toBe('Sign in');
    await page.getByLabel('Email').fill(u.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow Browser RP to access your account?' }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${rp.url}/callback**`);
    expect(await page.textContent('body')).toBe(`signed in as ${u.id}`);
    const tokens = signedIn.get(new URL(page.url()).searchParams.get('state')!)!;
    expect(tokens.claims()!.email).toBe(u.email);
    expect(refused).toEqual([]);
  });

  it('a wrong password is announced on the form; a user with TOTP gives the code; deny returns access_denied', async () => {
    const u = await newUser();
    const { secret } = newTotpKey(systemRandom, 'test', 'browser');
    const now = new Date();
    await db.db.insertInto('mfa_factors').values({ id: crypto.randomUUID(), user_id: u.id, friendly_name: 'phone', factor_type: 'totp', status: 'verified', created_at: now, updated_at: now, secret, phone: null }).execute();
    const { page, refused } = await newPage();
    await page.goto(`${rp.url}/login`);
    await page.getByLabel('Email').fill(u.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('Invalid login credentials');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Authentication code').fill(totpCodeAt(secret, new Date()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${rp.url}/callback**`);
    expect(await page.textContent('body')).toBe('error: access_denied');
    expect(refused).toEqual([]);
  });
});
