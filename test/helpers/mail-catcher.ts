import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail the catcher received, parsed, with the link and code a user would act on. */
export interface CaughtMail {
  to: string[];
  from: string;
  subject: string;
  html: string;
  text: string;
  /** The first link of the HTML part (entities decoded). */
  link: string | undefined;
  /** The code shown in the text part ("code: 123456"). */
  otp: string | undefined;
}

export type FailureMode = 'none' | 'rcpt' | 'data' | 'auth';

export interface MailCatcher {
  port: number;
  /** Every mail received so far, oldest first. */
  mails: CaughtMail[];
  /** How the next SMTP transactions fail; 'none' accepts them. */
  fail: FailureMode;
  /** The next mail to this address not yet taken (waits for it). */
  next(to: string, timeoutMs?: number): Promise<CaughtMail>;
  /** Mails to this address not yet taken, without waiting. */
  pending(to: string): CaughtMail[];
  /** Env pointing the server's SMTP transport here. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const SMTP_TEST_USER = 'mailer-user';
export const SMTP_TEST_PASS = 'mailer-secret-pass';

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/**
 * A real SMTP listener on 127.0.0.1 (smtp-server), parsing what arrives with mailparser. It can be told to refuse
 * recipients, refuse the message, or refuse the login, as a broken mail server would.
 */
export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const taken = new Set<CaughtMail>();
  const waiters: { to: string; resolve: (m: CaughtMail) => void }[] = [];
  const state = { fail: 'none' as FailureMode };

  const deliver = (m: CaughtMail) => {
    mails.push(m);
    const i = waiters.findIndex((w) => m.to.includes(w.to));
    if (i >= 0) {
      taken.add(m);
      waiters.splice(i, 1)[0]!.resolve(m);
    }
  };

  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS: true,
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (state.fail === 'auth' || auth.username !== SMTP_TEST_USER || auth.password !== SMTP_TEST_PASS) {
        const err = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
        cb(err);
        return;
      }
      cb(null, { user: auth.username });
    },
    onRcptTo(_address, _session, cb) {
      if (state.fail === 'rcpt') {
        cb(Object.assign(new Error('Mailbox unavailable: relay denied for mailer-secret-pass'), { responseCode: 550 }));
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.fail === 'data') {
          cb(Object.assign(new Error('Message rejected: quota exceeded'), { responseCode: 552 }));
          return;
        }
        void simpleParser(Buffer.concat(chunks)).then((parsed) => {
          const html = typeof parsed.html === 'string' ? parsed.html : '';
          const text = parsed.text ?? '';
          const href = /href="([^"]+)"/.exec(html)?.[1];
          deliver({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            html,
            text,
            link: href ? decode(href) : undefined,
            otp: /code\b[^\d]{0,60}?(\d{6,10})\b/i.exec(text)?.[1],
          });
          cb();
        }, cb);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    mails,
    get fail() {
      return state.fail;
    },
    set fail(v: FailureMode) {
      state.fail = v;
    },
    pending: (to) => mails.filter((m) => !taken.has(m) && m.to.includes(to.toLowerCase())),
    next(to, timeoutMs = 10_000) {
      const addr = to.toLowerCase();
      const ready = mails.find((m) => !taken.has(m) && m.to.includes(addr));
      if (ready) {
        taken.add(ready);
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const w = { to: addr, resolve: (m: CaughtMail) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    env: { GOTRUE_SMTP_HOST: '127.0.0.1', GOTRUE_SMTP_PORT: String(port), GOTRUE_SMTP_ADMIN_EMAIL: 'auth@example.com', GOTRUE_SMTP_SENDER_NAME: 'Example Auth' },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
