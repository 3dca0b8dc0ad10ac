import { GoTrueClient } from '@supabase/auth-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimsOf } from '../helpers/flows';
import { Browser, fragmentOf, jsonOf, queryOf } from '../helpers/browser';
import { GithubStandIn } from '../helpers/github-stand-in';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION, uniqueEmail, type TestServer } from '../helpers/test-server';

const PUBLIC = 'http://localhost:9999';
const SITE = 'http://localhost:3000';
const gh = new GithubStandIn('gh-client', 'gh-secret');

const githubEnv = () => ({
  GOTRUE_EXTERNAL_GITHUB_ENABLED: 'true',
  GOTRUE_EXTERNAL_GITHUB_CLIENT_ID: 'gh-client',
  GOTRUE_EXTERNAL_GITHUB_SECRET: 'gh-secret',
  GOTRUE_EXTERNAL_GITHUB_URL: gh.url,
});

beforeAll(async () => {
  await gh.start();
});
afterAll(() => gh.close());
const server = useTestApp({ listen: true, env: githubEnv });
const { db } = server;
const strict = useTestApp({ db, listen: true, env: () => ({ ...githubEnv(), GOTRUE_MAILER_AUTOCONFIRM: 'false' }) });

let n = 100;
beforeEach(() => {
  const id = n++;
  gh.account = { id, login: `octo${id}`, name: `Octo ${id}`, emails: [{ email: uniqueEmail('gh'), primary: true, verified: true }] };
  gh.tokenStatus = 200;
  gh.authorizeError = undefined;
});

const browserFor = (s: TestServer) => new Browser({ [PUBLIC]: s.url });
const atSite = (u: string) => u.startsWith(SITE);

describe(`GitHub through a local stand-in (${dbKind})`, () => {
  it('implicit flow: /authorize → GitHub → /callback → session in the fragment', async () => {
    const b = browserFor(server);
    const landed = await b.navigate(`${server.url}/authorize?provider=github&redirect_to=${encodeURIComponent(`${SITE}/welcome`)}`, atSite);
    expect(landed.startsWith(`${SITE}/welcome#`)).toBe(true);
    const f = fragmentOf(landed);
    expect(Object.keys(f)).toEqual(['access_token', 'expires_at', 'expires_in', 'provider_refresh_token', 'provider_token', 'refresh_token', 'sb', 'token_type']);
    expect(f.token_type).toBe('bearer');
    expect(f.provider_token).toMatch(/^ghu_/);
    const claims = claimsOf(f.access_token!);
    expect(claims.email).toBe(gh.account.emails[0]!.email);
    expect((claims.amr as { method: string }[])[0]!.method).toBe('oauth');
    expect(claims.app_metadata).toEqual({ provider: 'github', providers: ['github'] });

    const authz = gh.authorizeRequests.at(-1)!;
    expect(authz.searchParams.get('client_id')).toBe('gh-client');
    expect(authz.searchParams.get('redirect_uri')).toBe(`${PUBLIC}/callback`);
    expect(authz.searchParams.get('scope')).toBe('user:email');
    expect(authz.searchParams.get('code_challenge_method')).toBe('S256');

    const me = await jsonOf(fetch(`${server.url}/user`, { headers: { Authorization: `Bearer ${f.access_token}` } }));
    expect(me.email_confirmed_at).toBeTruthy();
    expect(me.identities).toHaveLength(1);
    expect(me.identities[0]).toMatchObject({ provider: 'github', id: String(gh.account.id) });
    expect(me.identities[0].identity_data).toMatchObject({ sub: String(gh.account.id), user_name: gh.account.login, email_verified: true, provider_id: String(gh.account.id) });
    expect(me.user_metadata).toMatchObject({ full_name: gh.account.name, email_verified: true });
  });

  it('PKCE flow through auth-js signInWithOAuth + exchangeCodeForSession, with provider tokens', async () => {
    const auth = new GoTrueClient({ url: `${server.url}/auth/v1`, autoRefreshToken: false, persistSession: false, detectSessionInUrl: false, flowType: 'pkce' });
    const { data } = await auth.signInWithOAuth({ provider: 'github', options: { redirectTo: `${SITE}/cb`, skipBrowserRedirect: true, scopes: 'repo' } });
    const landed = await browserFor(server).navigate(data.url!, atSite);
    const q = queryOf(landed);
    expect(Object.keys(q)).toEqual(['code']);
    expect(gh.authorizeRequests.at(-1)!.searchParams.get('scope')).toBe('user:email repo');
    const { data: s, error } = await auth.exchangeCodeForSession(q.code!);
    expect(error).toBeNull();
    expect(s.session?.provider_token).toMatch(/^ghu_/);
    expect(s.session?.provider_refresh_token).toMatch(/^ghr_/);
    expect(s.user?.email).toBe(gh.account.emails[0]!.email);
    expect((await auth.exchangeCodeForSession(q.code!)).error).not.toBeNull();
  });

  it('the same GitHub account signs into the same user every time', async () => {
    const first = fragmentOf(await browserFor(server).navigate(`${server.url}/authorize?provider=github`, atSite));
    const second = fragmentOf(await browserFor(server).navigate(`${server.url}/authorize?provider=github`, atSite));
    expect(claimsOf(second.access_token!).sub).toBe(claimsOf(first.access_token!).sub);
  });

  it('links to an existing user by verified email', async () => {
    const email = gh.account.emails[0]!.email;
    const signup = await jsonOf(fetch(`${server.url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'pass-word-1' }) }));
    const f = fragmentOf(await browserFor(server).navigate(`${server.url}/authorize?provider=github`, atSite));
    expect(claimsOf(f.access_token!).sub).toBe(signup.user.id);
    const me = await jsonOf(fetch(`${server.url}/user`, { headers: { Authorization: `Bearer ${f.access_token}` } }));
    expect(me.identities.map((i: { provider: string }) => i.provider).sort()).toEqual(['email', 'github']);
    expect(me.app_metadata).toEqual({ provider: 'email', providers: ['email', 'github'] });
  });

  it('an unverified email on a new account is refused with provider_email_needs_verification, the user kept unconfirmed', async () => {
    gh.account.emails = [{ email: uniqueEmail('unverified'), primary: true, verified: false }];
    const landed = await browserFor(strict).navigate(`${strict.url}/authorize?provider=github&redirect_to=${encodeURIComponent(`${SITE}/x`)}`, atSite);
    expect(queryOf(landed)).toMatchObject({ error: 'access_denied', error_code: 'provider_email_needs_verification' });
    expect(fragmentOf(landed)).toMatchObject({ error: 'access_denied', error_code: 'provider_email_needs_verification' });
    const row = await db.db.selectFrom('users').select(['email', 'email_confirmed_at']).where('email', '=', gh.account.emails[0]!.email).executeTakeFirst();
    expect(row).toEqual({ email: gh.account.emails[0]!.email, email_confirmed_at: null });
  });

  it('the same unverified sign-in again inside GOTRUE_SMTP_MAX_FREQUENCY: 429 over_email_send_rate_limit, not "a confirmation email has been sent"', async () => {
    gh.account.emails = [{ email: uniqueEmail('unverified-twice'), primary: true, verified: false }];
    const signIn = () => browserFor(strict).navigate(`${strict.url}/authorize?provider=github&redirect_to=${encodeURIComponent(`${SITE}/x`)}`, atSite);
    expect(queryOf(await signIn()).error_code).toBe('provider_email_needs_verification');
    const again = queryOf(await signIn());
    expect(again).toMatchObject({ error_code: 'over_email_send_rate_limit' });
    expect(again.error_description).toMatch(/^For security purposes, you can only request this after \d+ seconds\.$/);
  });

  it('a verified provider email takes over an unconfirmed password account, dropping its password', async () => {
    const email = gh.account.emails[0]!.email;
    const res = await fetch(`${strict.url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'attacker-pw-1' }) });
    expect(res.status).toBe(200);
    const f = fragmentOf(await browserFor(strict).navigate(`${strict.url}/authorize?provider=github`, atSite));
    const me = await jsonOf(fetch(`${strict.url}/user`, { headers: { Authorization: `Bearer ${f.access_token}` } }));
    expect(me.identities.map((i: { provider: string }) => i.provider)).toEqual(['github']);
    const login = await fetch(`${strict.url}/token?grant_type=password`, { method: 'POST', headers: { 'content-type': 'application/json', ...API_VERSION }, body: JSON.stringify({ email, password: 'attacker-pw-1' }) });
    expect(login.status).toBe(400);
  });
});

describe(`OAuth failures end in a redirect (${dbKind})`, () => {
  it('the provider refusing (error=access_denied) → error in query and fragment of the target', async () => {
    gh.authorizeError = 'access_denied';
    const landed = await browserFor(server).navigate(`${server.url}/authorize?provider=github&redirect_to=${encodeURIComponent(`${SITE}/x`)}`, atSite);
    expect(landed.startsWith(`${SITE}/x?`)).toBe(true);
    expect(queryOf(landed)).toMatchObject({ error: 'access_denied', error_code: 'bad_oauth_callback', error_description: 'The user has denied your application access.' });
    expect(fragmentOf(landed).error_code).toBe('bad_oauth_callback');
  });

  it('the token endpoint answering 500 → temporarily_unavailable / provider_unavailable', async () => {
    gh.tokenStatus = 500;
    const landed = await browserFor(server).navigate(`${server.url}/authorize?provider=github`, atSite);
    expect(queryOf(landed)).toMatchObject({ error: 'temporarily_unavailable', error_code: 'provider_unavailable' });
  });

  it('a bad code → bad_oauth_callback', async () => {
    const b = browserFor(server);
    const toGithub = await b.request(`${server.url}/authorize?provider=github`);
    const state = new URL(toGithub.headers.get('location')!).searchParams.get('state')!;
    const res = await b.request(`${server.url}/callback?code=not-a-code&state=${state}`);
    expect(res.status).toBe(302);
    expect(queryOf(res.headers.get('location')!)).toMatchObject({ error: 'invalid_request', error_code: 'bad_oauth_callback' });
  });

  it.each([
    ['no state', '?code=x', 'bad_oauth_state'],
    ['a malformed state', '?code=x&state=abc', 'bad_oauth_state'],
    ['an unknown state', '?code=x&state=8f0c6a43-1d8e-4f4e-9b7c-0a5f2f1d3e21', 'bad_oauth_state'],
  ])('%s → 303 to SITE_URL with %s', async (_n, query, code) => {
    const res = await fetch(`${server.url}/callback${query}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const loc = res.headers.get('location')!;
    expect(loc.startsWith(SITE)).toBe(true);
    expect(queryOf(loc)).toMatchObject({ error: 'invalid_request', error_code: code });
  });

  it('a replayed state is refused with flow_state_already_used', async () => {
    const b = browserFor(server);
    const toGithub = await b.request(`${server.url}/authorize?provider=github`);
    const back = await b.request(toGithub.headers.get('location')!);
    const callbackUrl = back.headers.get('location')!.replace(PUBLIC, server.url);
    expect(fragmentOf((await b.request(callbackUrl)).headers.get('location')!).access_token).toBeTruthy();
    const replay = await b.request(callbackUrl);
    expect(replay.status).toBe(303);
    expect(queryOf(replay.headers.get('location')!)).toMatchObject({ error_code: 'flow_state_already_used' });
  });

  it('POST /callback (form_post) is read like GET', async () => {
    const res = await fetch(`${server.url}/callback`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'state=nope&code=x' });
    expect(res.status).toBe(303);
    expect(queryOf(res.headers.get('location')!).error_code).toBe('bad_oauth_state');
  });

  it('POST /callback (form_post) with a real state and code completes the sign-in', async () => {
    const b = browserFor(server);
    const toGithub = await b.request(`${server.url}/authorize?provider=github&redirect_to=${encodeURIComponent(`${SITE}/posted`)}`);
    const back = new URL((await b.request(toGithub.headers.get('location')!)).headers.get('location')!);
    const form = Object.fromEntries(back.searchParams);
    const res = await b.request(`${server.url}/callback`, { method: 'POST', form });
    expect(res.status).toBe(302);
    const landed = res.headers.get('location')!;
    expect(landed.startsWith(`${SITE}/posted#`)).toBe(true);
    expect(claimsOf(fragmentOf(landed).access_token!).email).toBe(gh.account.emails[0]!.email);
  });
});

describe(`GET /authorize input (${dbKind})`, () => {
  it.each([
    ['no provider', '', 400, 'validation_failed'],
    ['an unknown provider', '?provider=myspace', 400, 'validation_failed'],
    ['a disabled provider', '?provider=gitlab', 400, 'provider_disabled'],
    ['an unknown custom provider', '?provider=custom:nope', 400, 'validation_failed'],
    ['a challenge without method', '?provider=github&code_challenge=' + 'a'.repeat(43), 400, 'validation_failed'],
    ['an unknown challenge method', '?provider=github&code_challenge=' + 'a'.repeat(43) + '&code_challenge_method=md5', 400, 'validation_failed'],
    ['a short challenge', '?provider=github&code_challenge=abc&code_challenge_method=s256', 400, 'validation_failed'],
  ])('answers %s with %i %s', async (_n, query, status, code) => {
    const res = await fetch(`${server.url}/authorize${query}`, { redirect: 'manual', headers: API_VERSION });
    expect(res.status).toBe(status);
    expect((await jsonOf(res)).code).toBe(code);
  });

  it('passes extra query parameters on, drops reserved ones, and falls back to SITE_URL for a foreign redirect_to', async () => {
    const b = browserFor(server);
    const res = await b.request(`${server.url}/authorize?provider=github&login=octo&allow_signup=false&client_id=evil&redirect_uri=https://evil.example&redirect_to=https://evil.example/steal&error=server_error&error_description=x&code=c&iss=https://evil.example`);
    const to = new URL(res.headers.get('location')!);
    expect(to.searchParams.get('login')).toBe('octo');
    for (const p of ['error', 'error_description', 'code', 'iss']) expect(to.searchParams.has(p), p).toBe(false);
    expect(to.searchParams.get('allow_signup')).toBe('false');
    expect(to.searchParams.get('client_id')).toBe('gh-client');
    expect(to.searchParams.get('redirect_uri')).toBe(`${PUBLIC}/callback`);
    gh.authorizeError = 'access_denied';
    const landed = await b.navigate(to.href, atSite);
    expect(landed.startsWith(`${SITE}/?`) || landed.startsWith(`${SITE}?`)).toBe(true);
  });

  it('GET /settings lists github as enabled', async () => {
    const s = await jsonOf(fetch(`${server.url}/settings`));
    expect(s.external).toMatchObject({ github: true, google: false, gitlab: false });
  });
});
