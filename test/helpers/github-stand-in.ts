import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubAccount {
  id: number;
  login: string;
  name: string;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

/**
 * A stand-in for GitHub's OAuth web flow and REST API, as GoTrue talks to GitHub Enterprise at a base URL:
 * /login/oauth/authorize (logs `account` in at once), /login/oauth/access_token (code and refresh grants; errors
 * with status 200 as GitHub does), /api/v3/user and /api/v3/user/emails.
 */
export class GithubStandIn {
  url = '';
  account: GithubAccount = { id: 1, login: 'octo', name: 'Octo Cat', emails: [] };
  /** Like GitHub Apps with expiring user tokens: refresh tokens and expires_in. */
  expiresIn: number | undefined = 28800;
  /** Answer the token endpoint with this status (a provider that is down). */
  tokenStatus = 200;
  /** Send the browser back with ?error= instead of a code. */
  authorizeError: string | undefined;
  /** Delay of refresh grants, so concurrent callers overlap. */
  refreshDelayMs = 0;
  readonly counts = { codeGrants: 0, refreshGrants: 0 };
  readonly authorizeRequests: URL[] = [];
  readonly tokenRequestAuth: string[] = [];
  private readonly codes = new Map<string, { account: GithubAccount; challenge: string | null; clientId: string }>();
  private readonly access = new Map<string, GithubAccount>();
  private readonly refresh = new Map<string, { account: GithubAccount; revoked: boolean }>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Revokes every refresh token (the user removed the app's authorization). */
  revokeAll(): void {
    for (const r of this.refresh.values()) r.revoked = true;
  }

  private issue(account: GithubAccount) {
    const accessToken = `ghu_${randomBytes(12).toString('hex')}`;
    this.access.set(accessToken, account);
    const out: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope: 'user:email' };
    if (this.expiresIn !== undefined) {
      const rt = `ghr_${randomBytes(12).toString('hex')}`;
      this.refresh.set(rt, { account, revoked: false });
      Object.assign(out, { expires_in: this.expiresIn, refresh_token: rt, refresh_token_expires_in: 15897600 });
    }
    return out;
  }

  private json(res: ServerResponse, status: number, body: unknown) {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      this.authorizeRequests.push(url);
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (this.authorizeError) {
        back.searchParams.set('error', this.authorizeError);
        back.searchParams.set('error_description', 'The user has denied your application access.');
      } else {
        const code = randomBytes(10).toString('hex');
        this.codes.set(code, { account: this.account, challenge: url.searchParams.get('code_challenge'), clientId: url.searchParams.get('client_id') ?? '' });
        back.searchParams.set('code', code);
      }
      res.statusCode = 302;
      res.setHeader('location', back.href);
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      if (this.tokenStatus !== 200) return this.json(res, this.tokenStatus, { message: 'Server Error' });
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const body = new URLSearchParams(raw);
      this.tokenRequestAuth.push(req.headers.authorization ? 'basic' : 'post');
      if (body.get('client_id') !== this.clientId || body.get('client_secret') !== this.clientSecret) {
        return this.json(res, 200, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' });
      }
      if (body.get('grant_type') === 'refresh_token') {
        this.counts.refreshGrants++;
        if (this.refreshDelayMs) await new Promise((r) => setTimeout(r, this.refreshDelayMs));
        const r = this.refresh.get(body.get('refresh_token') ?? '');
        if (!r || r.revoked) return this.json(res, 200, { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' });
        r.revoked = true; // GitHub rotates refresh tokens
        return this.json(res, 200, this.issue(r.account));
      }
      this.counts.codeGrants++;
      const grant = this.codes.get(body.get('code') ?? '');
      this.codes.delete(body.get('code') ?? '');
      if (!grant) return this.json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
      if (grant.challenge) {
        const verifier = body.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
          return this.json(res, 200, { error: 'bad_verification_code', error_description: 'PKCE verification failed.' });
        }
      }
      return this.json(res, 200, this.issue(grant.account));
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const account = token ? this.access.get(token) : undefined;
    if (req.method === 'GET' && url.pathname.startsWith('/api/v3/')) {
      if (!account) return this.json(res, 401, { message: 'Bad credentials' });
      if (url.pathname === '/api/v3/user') return this.json(res, 200, { id: account.id, login: account.login, name: account.name, email: account.emails.find((e) => e.primary)?.email ?? null, avatar_url: `https://avatars.example/${account.id}` });
      if (url.pathname === '/api/v3/user/emails') return this.json(res, 200, account.emails.map((e) => ({ ...e, visibility: 'public' })));
    }
    this.json(res, 404, { message: 'Not Found' });
  }
}
