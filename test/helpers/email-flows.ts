import type { DatabaseHandle } from '../../src/db/database';
import type { DepsOverrides } from '../../src/deps';
import { startMailCatcher, type MailCatcher } from './mail-catcher';
import { startTestServer, type RunningTestServer, type TestServer } from './test-server';

/**
 * The real app sending through a real SMTP listener (useTestApp({ mail: true })), with email confirmations on
 * (autoconfirm off) and links pointing at API_EXTERNAL_URL (rewritten to the test server by followLink).
 */
export interface MailTestServer extends TestServer {
  mail: MailCatcher;
}

/** A second mail-sending server started inside one test (files use useTestApp({ mail: true })). */
export async function startMailTestServer(db: DatabaseHandle, env: Record<string, string> = {}, overrides: DepsOverrides = {}): Promise<MailTestServer & RunningTestServer> {
  const mail = await startMailCatcher();
  const server = await startTestServer(db, { GOTRUE_MAILER_AUTOCONFIRM: 'false', ...mail.env, ...env }, overrides);
  return {
    ...server,
    mail,
    close: async () => {
      await server.close();
      await mail.close();
    },
  };
}

export interface FollowedLink {
  status: number;
  location: URL;
  /** The redirect's fragment parameters (implicit sessions, errors, messages). */
  fragment: URLSearchParams;
}

/** Follows a mail's link as a browser would (its API_EXTERNAL_URL origin pointed at the test server). */
export async function followLink(server: TestServer, link: string): Promise<FollowedLink> {
  const u = new URL(link);
  const res = await fetch(`${server.url}${u.pathname}${u.search}`, { redirect: 'manual' });
  const location = new URL(res.headers.get('location') ?? 'about:blank');
  return { status: res.status, location, fragment: new URLSearchParams(location.hash.replace(/^#/, '')) };
}

/** Signs up and confirms through the mailed code (POST /verify), returning the session body. */
export async function createConfirmedUser(server: MailTestServer, email: string, password = 'pass-word-1') {
  const signUp = await fetch(`${server.url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (signUp.status !== 200) throw new Error(`signup failed: ${signUp.status} ${await signUp.text()}`);
  const mail = await server.mail.next(email);
  const verify = await fetch(`${server.url}/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'signup', email, token: mail.otp }),
  });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.status} ${await verify.text()}`);
  return (await verify.json()) as { access_token: string; refresh_token: string; user: { id: string } };
}

/** The amr methods of an access token, newest first. */
export const amrOf = (accessToken: string): string[] =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).amr as { method: string }[]).map((a) => a.method);
