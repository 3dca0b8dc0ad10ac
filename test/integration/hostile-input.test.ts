import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Deps } from '../../src/deps';
import { adminHeaders } from '../helpers/admin';
import { claimsOf, signUp } from '../helpers/flows';
import { dbKind, openTestDatabase } from '../helpers/test-db';
import { API_VERSION, startTestServer, testDeps, uniqueEmail } from '../helpers/test-server';

/**
 * What a hostile-input run found answered with 500s, each now a 4xx JSON error with an error_code: malformed
 * percent-encoding in a path, a body whose Content-Encoding does not decode, audiences the rows cannot hold or the
 * token does not carry, NUL and unpaired surrogates in every text field, metadata nested thousands deep.
 */

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let deps: Deps;
let app: ReturnType<typeof createApp>;
let user: { id: string; email: string; token: string };
let identityId = '';

beforeAll(async () => {
  db = await openTestDatabase();
  deps = testDeps(db, {
    GOTRUE_SECURITY_MANUAL_LINKING_ENABLED: 'true',
    GOTRUE_EXTERNAL_TOKEN_VAULT_KEYS: `k:${Buffer.alloc(32, 7).toString('base64')}`,
  });
  app = createApp(deps);
  const s = await signUp(app);
  user = { id: s.body.user.id, email: s.email, token: s.body.access_token };
  identityId = (s.body.user as unknown as { identities: { identity_id: string }[] }).identities[0]!.identity_id;
});
afterAll(() => db.close());

type Method = 'get' | 'post' | 'put' | 'delete';
type Caller = 'anon' | 'user' | 'admin';

/** One request as a table row describes it; JSON bodies are sent as raw text so escapes like \u0000 arrive as written. */
function send(method: Method, path: string, caller: Caller, body?: string, headers: Record<string, string> = {}) {
  let r = request(app)[method](path).set(API_VERSION).set(headers);
  if (caller === 'user') r = r.set('Authorization', `Bearer ${user.token}`);
  if (caller === 'admin') r = r.set(adminHeaders(deps));
  return body === undefined ? r : r.set('Content-Type', 'application/json').send(body);
}

const U = () => user.id;
/** The shared fields' refusal: the edge, not the database, caught it. */
const UNSTORABLE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

describe(`hostile input never reaches a 500 (${dbKind})`, () => {
  describe('bad percent-encoding in a path parameter', () => {
    it.each<[Method, string, Caller, number, string]>([
      ['get', '/admin/users/%zz', 'admin', 400, 'validation_failed'],
      ['put', '/admin/users/%E0%A4%A', 'admin', 400, 'validation_failed'],
      ['get', '/admin/users/%zz/factors', 'admin', 400, 'validation_failed'],
      ['get', '/admin/custom-providers/%zz', 'admin', 400, 'validation_failed'],
      ['delete', '/user/identities/%zz', 'user', 400, 'validation_failed'],
      ['get', '/auth/v1/admin/users/%zz', 'admin', 400, 'validation_failed'],
      ['get', '/admin/users/%zz', 'anon', 401, 'no_authorization'],
    ])('%s %s (%s) → %i %s', async (method, path, caller, status, code) => {
      const r = await send(method, path, caller);
      expect([r.status, r.body.code]).toEqual([status, code]);
    });
  });

  describe('a body whose Content-Encoding does not decode', () => {
    const routes: [Method, string, Caller][] = [
      ['get', '/health', 'anon'],
      ['get', '/settings', 'anon'],
      ['post', '/signup', 'anon'],
      ['post', '/token?grant_type=password', 'anon'],
      ['post', '/otp', 'anon'],
      ['post', '/verify', 'anon'],
      ['get', '/verify?type=signup&token=x', 'anon'],
      ['get', '/user', 'user'],
      ['put', '/user', 'user'],
      ['post', '/logout', 'user'],
      ['post', '/callback', 'anon'],
      ['post', '/invite', 'admin'],
      ['post', '/admin/users', 'admin'],
      ['get', '/nowhere', 'anon'],
    ];
    it.each(['gzip', 'deflate', 'br', 'x-unknown'])('is 400 bad_json on every route (Content-Encoding: %s)', async (encoding) => {
      for (const [method, path, caller] of routes) {
        const r = await send(method, path, caller, 'not compressed at all', { 'Content-Encoding': encoding });
        expect([r.status, r.body.code], `${method} ${path}`).toEqual([400, 'bad_json']);
        expect(r.headers['x-sb-error-code']).toBe('bad_json');
      }
    });
  });

  describe('X-JWT-AUD', () => {
    it('longer than users.aud allows is 400 validation_failed', async () => {
      const r = await send('post', '/signup', 'anon', JSON.stringify({ email: uniqueEmail(), password: 'pass-word-1' }), { 'X-JWT-AUD': 'a'.repeat(256) });
      expect([r.status, r.body.code, r.body.message]).toEqual([400, 'validation_failed', 'X-JWT-AUD cannot be longer than 255 characters']);
      const ok = await send('post', '/signup', 'anon', JSON.stringify({ email: uniqueEmail(), password: 'pass-word-1' }), { 'X-JWT-AUD': 'a'.repeat(255) });
      expect(ok.status).toBe(200);
      expect(claimsOf(ok.body.access_token).aud).toBe('a'.repeat(255));
    });

    it.each<[string, Method, string, () => string]>([
      ['signup', 'post', '/signup', () => JSON.stringify({ email: user.email, password: 'pass-word-1' })],
      ['magic link', 'post', '/otp', () => JSON.stringify({ email: user.email })],
    ])('naming another audience for an existing address is 409 conflict (%s)', async (_name, method, path, body) => {
      // Lookups are per audience but the email index is global (as in GoTrue, which answers 500 here).
      const r = await send(method, path, 'anon', body(), { 'X-JWT-AUD': 'another-app' });
      expect([r.status, r.body.code]).toEqual([409, 'conflict']);
    });

    it('GET /user compares it with the token’s aud, as GoTrue’s UserGet does', async () => {
      const other = await send('get', '/user', 'user', undefined, { 'X-JWT-AUD': 'another-app' });
      expect([other.status, other.body.code, other.body.message]).toEqual([400, 'validation_failed', "Token audience doesn't match request audience"]);
      expect((await send('get', '/user', 'user', undefined, { 'X-JWT-AUD': 'authenticated' })).status).toBe(200);
      expect((await send('get', '/user', 'user')).status).toBe(200);
    });

    it('a user of another audience is served with its own token and no header (the token’s aud is the request’s)', async () => {
      const s = await send('post', '/signup', 'anon', JSON.stringify({ email: uniqueEmail(), password: 'pass-word-1' }), { 'X-JWT-AUD': 'app-two' });
      expect(s.status).toBe(200);
      const me = await request(app).get('/user').set(API_VERSION).set('Authorization', `Bearer ${s.body.access_token}`);
      expect([me.status, me.body.aud]).toEqual([200, 'app-two']);
      const asDefault = await request(app).get('/user').set(API_VERSION).set('X-JWT-AUD', 'authenticated').set('Authorization', `Bearer ${s.body.access_token}`);
      expect([asDefault.status, asDefault.body.code]).toEqual([400, 'validation_failed']);
    });

    it('DELETE /user/identities/{id} refuses a token for another audience with 403 unexpected_audience', async () => {
      const r = await send('delete', `/user/identities/${identityId}`, 'user', undefined, { 'X-JWT-AUD': 'another-app' });
      expect([r.status, r.body.code]).toEqual([403, 'unexpected_audience']);
    });
  });

  describe('NUL and unpaired surrogates in every text field are 400 validation_failed', () => {
    // Raw JSON escapes: a NUL, a lone high surrogate, a lone low surrogate.
    const bad = ['\\u0000', '\\ud800', '\\udc00'];
    const emailAt = (x: string) => `"a${x}@example.com"`;
    type Row = [string, Method, () => string, Caller, (x: string) => string];
    const rows: Row[] = [
      ['signup data value', 'post', () => '/signup', 'anon', (x) => `{"email":"${uniqueEmail()}","password":"pass-word-1","data":{"a":"${x}"}}`],
      ['signup data key', 'post', () => '/signup', 'anon', (x) => `{"email":"${uniqueEmail()}","password":"pass-word-1","data":{"k${x}":1}}`],
      ['signup nested data', 'post', () => '/signup', 'anon', (x) => `{"email":"${uniqueEmail()}","password":"pass-word-1","data":{"a":[{"b":"${x}"}]}}`],
      ['signup email', 'post', () => '/signup', 'anon', (x) => `{"email":${emailAt(x)},"password":"pass-word-1"}`],
      ['signup phone', 'post', () => '/signup', 'anon', (x) => `{"phone":"1555${x}","password":"pass-word-1"}`],
      ['signup password', 'post', () => '/signup', 'anon', (x) => `{"email":"${uniqueEmail()}","password":"pass-word-1${x}"}`],
      ['signup code_challenge', 'post', () => '/signup', 'anon', (x) => `{"email":"${uniqueEmail()}","password":"pass-word-1","code_challenge":"${x}","code_challenge_method":"s256"}`],
      ['otp email', 'post', () => '/otp', 'anon', (x) => `{"email":${emailAt(x)}}`],
      ['otp data', 'post', () => '/otp', 'anon', (x) => `{"email":"${uniqueEmail()}","data":{"a":"${x}"}}`],
      ['magiclink data', 'post', () => '/magiclink', 'anon', (x) => `{"email":"${uniqueEmail()}","data":{"a":"${x}"}}`],
      ['recover email', 'post', () => '/recover', 'anon', (x) => `{"email":${emailAt(x)}}`],
      ['resend type', 'post', () => '/resend', 'anon', (x) => `{"type":"signup${x}","email":"${uniqueEmail()}"}`],
      ['verify token_hash', 'post', () => '/verify', 'anon', (x) => `{"type":"signup","token_hash":"h${x}"}`],
      ['verify token', 'post', () => '/verify', 'anon', (x) => `{"type":"sms","token":"1${x}","phone":"15550001111"}`],
      ['verify redirect_to', 'post', () => '/verify', 'anon', (x) => `{"type":"signup","token":"1","email":"a@b.co","redirect_to":"http://localhost:3000/${x}"}`],
      ['password grant email', 'post', () => '/token?grant_type=password', 'anon', (x) => `{"email":${emailAt(x)},"password":"x"}`],
      ['password grant password', 'post', () => '/token?grant_type=password', 'anon', (x) => `{"email":"a@b.co","password":"x${x}"}`],
      ['refresh_token', 'post', () => '/token?grant_type=refresh_token', 'anon', (x) => `{"refresh_token":"r${x}"}`],
      ['pkce auth_code', 'post', () => '/token?grant_type=pkce', 'anon', (x) => `{"auth_code":"c${x}","code_verifier":"${'v'.repeat(43)}"}`],
      ['PUT /user data', 'put', () => '/user', 'user', (x) => `{"data":{"a":"${x}"}}`],
      ['PUT /user nonce', 'put', () => '/user', 'user', (x) => `{"password":"pass-word-2","nonce":"n${x}"}`],
      ['PUT /user app_metadata', 'put', () => '/user', 'user', (x) => `{"app_metadata":{"a":"${x}"}}`],
      ['invite data', 'post', () => '/invite', 'admin', (x) => `{"email":"${uniqueEmail()}","data":{"a":"${x}"}}`],
      ['admin create role', 'post', () => '/admin/users', 'admin', (x) => `{"email":"${uniqueEmail()}","role":"r${x}"}`],
      ['admin create user_metadata', 'post', () => '/admin/users', 'admin', (x) => `{"email":"${uniqueEmail()}","user_metadata":{"a":"${x}"}}`],
      ['admin create aud', 'post', () => '/admin/users', 'admin', (x) => `{"email":"${uniqueEmail()}","aud":"a${x}"}`],
      ['admin create ban_duration', 'post', () => '/admin/users', 'admin', (x) => `{"email":"${uniqueEmail()}","ban_duration":"1h${x}"}`],
      ['admin update app_metadata', 'put', () => `/admin/users/${U()}`, 'admin', (x) => `{"app_metadata":{"a":"${x}"}}`],
      ['admin update user_metadata key', 'put', () => `/admin/users/${U()}`, 'admin', (x) => `{"user_metadata":{"k${x}":true}}`],
      ['admin update role', 'put', () => `/admin/users/${U()}`, 'admin', (x) => `{"role":"${x}"}`],
      ['admin update password_hash', 'put', () => `/admin/users/${U()}`, 'admin', (x) => `{"password_hash":"$2b$${x}"}`],
      ['factor friendly_name', 'put', () => `/admin/users/${U()}/factors/${randomUUID()}`, 'admin', (x) => `{"friendly_name":"f${x}"}`],
      ['generate_link data', 'post', () => '/admin/generate_link', 'admin', (x) => `{"type":"magiclink","email":"${uniqueEmail()}","data":{"a":"${x}"}}`],
      ['generate_link redirect_to', 'post', () => '/admin/generate_link', 'admin', (x) => `{"type":"magiclink","email":"${uniqueEmail()}","redirect_to":"http://localhost:3000/${x}"}`],
      ['generate_link new_email', 'post', () => '/admin/generate_link', 'admin', (x) => `{"type":"email_change_new","email":"${user.email}","new_email":${emailAt(x)}}`],
      ['custom provider client_secret', 'post', () => '/admin/custom-providers', 'admin', (x) => `{"provider_type":"oauth2","identifier":"custom:hostile","name":"x","client_id":"x","client_secret":"s${x}","authorization_url":"https://a.example/a","token_url":"https://a.example/t","userinfo_url":"https://a.example/u"}`],
      ['custom provider name', 'post', () => '/admin/custom-providers', 'admin', (x) => `{"provider_type":"oauth2","identifier":"custom:hostile","name":"${x}","client_id":"x","client_secret":"s","authorization_url":"https://a.example/a","token_url":"https://a.example/t","userinfo_url":"https://a.example/u"}`],
      ['custom provider attribute_mapping', 'post', () => '/admin/custom-providers', 'admin', (x) => `{"provider_type":"oauth2","identifier":"custom:hostile","name":"x","client_id":"x","client_secret":"s","attribute_mapping":{"email":"${x}"},"authorization_url":"https://a.example/a","token_url":"https://a.example/t","userinfo_url":"https://a.example/u"}`],
    ];
    it.each(rows.flatMap(([name, method, path, caller, body]) => bad.map((x) => [`${name} with ${x}`, method, path, caller, body, x] as const)))(
      '%s',
      async (_name, method, path, caller, body, x) => {
        const r = await send(method, path(), caller, body(x));
        expect([r.status, r.body.code, r.body.message], JSON.stringify(r.body)).toEqual([400, 'validation_failed', expect.stringContaining(UNSTORABLE)]);
      },
    );

    it.each<[string, () => string, Caller]>([
      ['the admin filter', () => '/admin/users?filter=a%00b', 'admin'],
      ['the admin sort', () => '/admin/users?sort=created_at%00', 'admin'],
      ['the audit query', () => '/admin/audit?query=author:%00', 'admin'],
      ['a custom provider list type', () => '/admin/custom-providers?type=oidc%00', 'admin'],
      ['an authorize provider', () => '/authorize?provider=github%00', 'anon'],
      ['an authorize nonce passed to the provider', () => '/authorize?provider=github&nonce=n%00', 'anon'],
      ['an authorize invite_token', () => '/authorize?provider=github&invite_token=%00', 'anon'],
    ])('in a query parameter: %s', async (_name, path, caller) => {
      const r = await send('get', path(), caller);
      expect([r.status, r.body.code, r.body.message], JSON.stringify(r.body)).toEqual([400, 'validation_failed', expect.stringContaining(UNSTORABLE)]);
    });

    it('in a path: a provider-token provider name is 404 (no such token can exist)', async () => {
      const r = await send('get', `/admin/users/${U()}/provider-tokens/git%00hub`, 'admin');
      expect([r.status, r.body.code]).toEqual([404, 'provider_token_not_found']);
    });

    it('GET /verify answers a NUL token with its error redirect, and a NUL redirect_to falls back to SITE_URL', async () => {
      const r = await request(app).get('/verify?type=signup&token=a%00b&redirect_to=http://localhost:3000/x%00y');
      expect(r.status).toBe(303);
      const location = new URL(r.headers.location!);
      expect(location.origin + location.pathname).toBe('http://localhost:3000/');
      expect(new URLSearchParams(location.hash.slice(1)).get('error_code')).toBe('validation_failed');
    });

    it('a redirect_to query with a NUL is never used: /recover falls back to SITE_URL, not an error', async () => {
      const r = await send('post', '/recover?redirect_to=http://localhost:3000/%00', 'anon', JSON.stringify({ email: user.email }));
      expect(r.status).toBe(200);
    });
  });

  describe('metadata caps', () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    it.each<[string, number, string]>([
      ['5,000 levels', 5000, ''],
      ['50,000 levels', 50_000, ''],
      ['33 levels', 33, 'nested more than 32 levels'],
    ])('refuses data nested %s deep with a 400', async (_name, depth, message) => {
      const r = await send('post', '/signup', 'anon', `{"email":"${uniqueEmail()}","password":"pass-word-1","data":${nested(depth)}}`);
      expect(r.status).toBe(400);
      expect(['validation_failed', 'bad_json']).toContain(r.body.code);
      expect(r.body.message).toContain(message);
    });

    it('accepts data 32 levels deep (the object itself is level 1)', async () => {
      const r = await send('post', '/signup', 'anon', `{"email":"${uniqueEmail()}","password":"pass-word-1","data":${nested(32)}}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });

    it.each<[string, Method, () => string, Caller, (m: string) => string]>([
      ['signup data', 'post', () => '/signup', 'anon', (m) => `{"email":"${uniqueEmail()}","password":"pass-word-1","data":${m}}`],
      ['PUT /user data', 'put', () => '/user', 'user', (m) => `{"data":${m}}`],
      ['admin app_metadata', 'put', () => `/admin/users/${U()}`, 'admin', (m) => `{"app_metadata":${m}}`],
      ['invite data', 'post', () => '/invite', 'admin', (m) => `{"email":"${uniqueEmail()}","data":${m}}`],
    ])('refuses %s deeper than 32 levels or over 64 KiB', async (_name, method, path, caller, body) => {
      const deep = await send(method, path(), caller, body(nested(40)));
      expect([deep.status, deep.body.code]).toEqual([400, 'validation_failed']);
      const big = await send(method, path(), caller, body(JSON.stringify({ blob: 'x'.repeat(66_000) })));
      expect([big.status, big.body.code, big.body.message]).toEqual([400, 'validation_failed', expect.stringContaining('65536 bytes')]);
    });
  });

  describe('passwords being set: more than 72 bytes is GoTrue’s 400', () => {
    const long = 'p'.repeat(73);
    const euros = '€'.repeat(25); // 25 characters, 75 bytes: Go counts bytes.
    it.each<[string, Method, () => string, Caller, (p: string) => string]>([
      ['signup', 'post', () => '/signup', 'anon', (p) => JSON.stringify({ email: uniqueEmail(), password: p })],
      ['PUT /user', 'put', () => '/user', 'user', (p) => JSON.stringify({ password: p })],
      ['admin create', 'post', () => '/admin/users', 'admin', (p) => JSON.stringify({ email: uniqueEmail(), password: p })],
      ['admin update', 'put', () => `/admin/users/${U()}`, 'admin', (p) => JSON.stringify({ password: p })],
      ['generate_link signup', 'post', () => '/admin/generate_link', 'admin', (p) => JSON.stringify({ type: 'signup', email: uniqueEmail(), password: p })],
    ])('%s', async (_name, method, path, caller, body) => {
      for (const p of [long, euros]) {
        const r = await send(method, path(), caller, body(p));
        expect([r.status, r.body.code, r.body.message]).toEqual([400, 'validation_failed', 'Password cannot be longer than 72 characters']);
      }
    });

    it('72 bytes is accepted', async () => {
      const r = await send('post', '/signup', 'anon', JSON.stringify({ email: uniqueEmail(), password: 'p'.repeat(72) }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });
  });

  it('an Origin no browser sends is not reflected: a Latin-1 one came back twice its size, past clients’ 16 KiB header limit', async () => {
    const odd = await send('post', '/magiclink', 'anon', JSON.stringify({ email: uniqueEmail() }), { Origin: 'é'.repeat(8000) });
    expect(odd.status).toBe(200);
    expect(odd.headers['access-control-allow-origin']).toBeUndefined();
    const long = await send('get', '/settings', 'anon', undefined, { Origin: `https://${'a'.repeat(3000)}.example` });
    expect(long.headers['access-control-allow-origin']).toBeUndefined();
    const browser = await send('get', '/settings', 'anon', undefined, { Origin: 'http://localhost:3000' });
    expect(browser.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  describe('requests Node’s HTTP parser refuses before the app sees them get a JSON error too', () => {
    /** Writes raw bytes to a listening server and reads its whole answer (it closes the connection). */
    async function raw(bytes: string) {
      const server = await startTestServer(db);
      try {
        const { port } = new URL(server.url);
        const socket = connect(Number(port), '127.0.0.1');
        socket.end(bytes);
        const chunks: Buffer[] = [];
        for await (const c of socket) chunks.push(c as Buffer);
        const [head = '', body = ''] = Buffer.concat(chunks).toString().split('\r\n\r\n');
        return { statusLine: head.split('\r\n')[0], head: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> };
      } finally {
        await server.close();
      }
    }

    it('a query string past the 16 KiB header limit is 431 request_headers_too_large, not a bare status line', async () => {
      const r = await raw(`GET /callback?error_description=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(r.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(r.head).toContain('content-type: application/json');
      expect(r.head).toContain('x-sb-error-code: request_headers_too_large');
      expect(r.body).toEqual({ code: 431, error_code: 'request_headers_too_large', msg: 'Request Header Fields Too Large' });
    });

    it('malformed HTTP is 400 validation_failed', async () => {
      const r = await raw('NOT HTTP AT ALL\r\n\r\n');
      expect(r.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(r.body).toMatchObject({ code: 400, error_code: 'validation_failed' });
    });
  });
});
