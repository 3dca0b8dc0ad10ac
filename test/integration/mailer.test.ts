import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, MailKind } from '../../src/config/config';
import { loadConfig } from '../../src/config';
import { confirmationUrl, createMailer, transportFromConfig, type MailInput } from '../../src/mailer/mailer';
import { createMemoryTransport } from '../../src/mailer/memory-transport';
import { createLogTransport } from '../../src/mailer/log-transport';
import { createTemplateStore } from '../../src/mailer/templates';
import { MailSendError } from '../../src/mailer/transport';
import { SMTP_TEST_PASS, SMTP_TEST_USER, startMailCatcher, type MailCatcher } from '../helpers/mail-catcher';

const baseEnv = { GOTRUE_SITE_URL: 'https://app.example.com', API_EXTERNAL_URL: 'https://auth.example.com/auth/v1', LOG_LEVEL: 'silent' };
const config = (env: Record<string, string> = {}): Config => loadConfig({ ...baseEnv, ...env });

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const clock = { now: () => new Date() };
const input = (over: Partial<MailInput> = {}): MailInput => ({
  to: 'ada@example.com',
  email: 'ada@example.com',
  otp: '123456',
  tokenHash: 'pkce_0f0e',
  redirectTo: 'https://app.example.com/welcome?x=1',
  data: { name: 'Ada' },
  ...over,
});

let catcher: MailCatcher;
let http: Server;
let httpUrl: string;
let httpDown = false;
const dir = mkdtempSync(join(tmpdir(), 'gotrue-templates-'));

beforeAll(async () => {
  catcher = await startMailCatcher();
  http = createServer((req, res) => {
    if (httpDown || req.url !== '/magic.html') {
      res.writeHead(503).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Hosted for {{ .Email }}: <a href="{{ .ConfirmationURL }}">in</a> {{ .Token }}</p>');
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await catcher.close();
  http.close();
});

describe('mail links', () => {
  it('joins the URL path to API_EXTERNAL_URL, keeping its path, with token, type and redirect_to', () => {
    expect(confirmationUrl(config(), 'confirmation', 'abc', 'https://app.example.com/x?y=1')).toBe(
      'https://auth.example.com/auth/v1/verify?token=abc&type=signup&redirect_to=https%3A%2F%2Fapp.example.com%2Fx%3Fy%3D1',
    );
    expect(confirmationUrl(config({ GOTRUE_MAILER_URLPATHS_MAGIC_LINK: 'https://app.example.com/auth/confirm' }), 'magic_link', 'h', 'r')).toBe(
      'https://app.example.com/auth/confirm?token=h&type=magiclink&redirect_to=r',
    );
  });
});

describe('the mailer over SMTP (a real listener)', () => {
  it('sends every kind with its default subject, HTML and text, link and code', async () => {
    const c = config(catcher.env);
    const mailer = createMailer({ config: c, transport: transportFromConfig(c, pino({ level: 'silent' })), templates: createTemplateStore({ custom: c.mailer.templates, logger: pino({ level: 'silent' }), clock }) });
    const kinds: [keyof typeof mailer, string, string | undefined][] = [
      ['sendConfirmation', 'Confirm Your Email', 'signup'],
      ['sendInvite', 'You have been invited', 'invite'],
      ['sendRecovery', 'Reset Your Password', 'recovery'],
      ['sendMagicLink', 'Your Magic Link', 'magiclink'],
      ['sendEmailChange', 'Confirm Email Change', 'email_change'],
      ['sendReauthentication', 'Confirm reauthentication', undefined],
    ];
    for (const [method, subject, type] of kinds) {
      const to = `${method.toLowerCase()}@example.com`;
      await (mailer[method] as (m: MailInput) => Promise<void>)(input({ to, newEmail: 'new@example.com' }));
      const mail = await catcher.next(to);
      expect(mail.subject).toBe(subject);
      expect(mail.from).toBe('"Example Auth" <auth@example.com>');
      expect(mail.otp).toBe('123456');
      expect(mail.text).toContain('123456');
      if (type) {
        const link = new URL(mail.link!);
        expect(link.origin + link.pathname).toBe('https://auth.example.com/auth/v1/verify');
        expect(Object.fromEntries(link.searchParams)).toEqual({ token: 'pkce_0f0e', type, redirect_to: 'https://app.example.com/welcome?x=1' });
        expect(mail.text).toContain(mail.link);
      } else {
        expect(mail.link).toBeUndefined();
      }
    }
  });

  it('logs in with GOTRUE_SMTP_USER / _PASS, and a refused login fails without leaking the credentials', async () => {
    const c = config({ ...catcher.env, GOTRUE_SMTP_USER: SMTP_TEST_USER, GOTRUE_SMTP_PASS: SMTP_TEST_PASS });
    const transport = transportFromConfig(c, pino({ level: 'silent' }));
    await transport.send({ kind: 'confirmation', to: 'auth-ok@example.com', subject: 's', html: '<p>h</p>', text: 'h', link: undefined, otp: '1' });
    expect((await catcher.next('auth-ok@example.com')).subject).toBe('s');

    const wrong = transportFromConfig(config({ ...catcher.env, GOTRUE_SMTP_USER: SMTP_TEST_USER, GOTRUE_SMTP_PASS: 'not-the-password' }), pino({ level: 'silent' }));
    const err = await wrong.send({ kind: 'confirmation', to: 'auth-bad@example.com', subject: 's', html: 'h', text: 'h', link: undefined, otp: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailSendError);
    expect((err as MailSendError).reason).toBe('EAUTH, SMTP 535, at AUTH PLAIN');
    expect(String((err as Error).message)).not.toContain('not-the-password');
  });

  it.each(['rcpt', 'data'] as const)('turns a server refusing at %s into a MailSendError without the raw response', async (mode) => {
    const c = config(catcher.env);
    const transport = transportFromConfig(c, pino({ level: 'silent' }));
    catcher.fail = mode;
    try {
      const err = await transport.send({ kind: 'recovery', to: 'refused@example.com', subject: 's', html: 'h', text: 'h', link: undefined, otp: '1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailSendError);
      expect((err as Error).message).toMatch(/^mail could not be sent \(E[A-Z]+, SMTP 55\d/);
      expect((err as Error).message).not.toMatch(/relay denied|quota|mailer-secret-pass/);
    } finally {
      catcher.fail = 'none';
    }
  });

  it('upgrades with STARTTLS when the server offers it, verifying the certificate (a self-signed one is refused)', async () => {
    const tls = new SMTPServer({ authOptional: true, logger: false, onData: (stream, _s, cb) => (stream.resume(), stream.on('end', () => cb())) });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls.server.address() as AddressInfo).port;
      const transport = transportFromConfig(config({ GOTRUE_SMTP_HOST: '127.0.0.1', GOTRUE_SMTP_PORT: String(port) }), pino({ level: 'silent' }));
      const err = await transport.send({ kind: 'recovery', to: 'tls@example.com', subject: 's', html: 'h', text: 'h', link: undefined, otp: '1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailSendError);
      expect((err as MailSendError).reason).toMatch(/^(ETLS|ESOCKET)/);
    } finally {
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });

  it('fails with a MailSendError when nothing listens on the SMTP port', async () => {
    const transport = transportFromConfig(config({ GOTRUE_SMTP_HOST: '127.0.0.1', GOTRUE_SMTP_PORT: '1' }), pino({ level: 'silent' }));
    const err = await transport.send({ kind: 'recovery', to: 'x@example.com', subject: 's', html: 'h', text: 'h', link: undefined, otp: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailSendError);
    expect((err as MailSendError).reason).toMatch(/^ESOCKET|^ECONNECTION/);
  });
});

describe('custom templates', () => {
  const render = async (custom: Partial<Record<MailKind, string>>, kind: MailKind = 'confirmation') => {
    const { logger, lines } = capturingLogger();
    const transport = createMemoryTransport();
    const c = config();
    const templates = createTemplateStore({ custom: { ...c.mailer.templates, ...custom }, logger, clock });
    const mailer = createMailer({ config: c, transport, templates });
    const send = { confirmation: mailer.sendConfirmation, magic_link: mailer.sendMagicLink } as Record<string, (m: MailInput) => Promise<void>>;
    await send[kind]!(input());
    return { mail: transport.sent[0]!, warnings: lines.filter((l) => l.level === 40) };
  };

  it('renders a GoTrue-style template from a file, deriving the text part', async () => {
    const file = join(dir, 'confirm.html');
    writeFileSync(file, '<h2>Welcome {{ .Data.name }}</h2>{{ if .Token }}<p>Code: {{ .Token }}</p>{{ end }}<p><a href="{{ .SiteURL }}/confirm?token_hash={{ .TokenHash }}&type=email">Confirm</a></p>');
    const { mail, warnings } = await render({ confirmation: file });
    expect(mail.html).toBe('<h2>Welcome Ada</h2><p>Code: 123456</p><p><a href="https://app.example.com/confirm?token_hash=pkce_0f0e&type=email">Confirm</a></p>');
    expect(mail.text).toBe('Welcome Ada\n\nCode: 123456\n\nConfirm: https://app.example.com/confirm?token_hash=pkce_0f0e&type=email');
    expect(warnings).toEqual([]);
  });

  it('loads a template from a URL', async () => {
    const { mail } = await render({ magic_link: `${httpUrl}/magic.html` }, 'magic_link');
    expect(mail.html).toContain('<p>Hosted for ada@example.com: <a href="https://auth.example.com/auth/v1/verify?token=pkce_0f0e&amp;type=magiclink');
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.html')],
    ['a URL that is down', () => `${httpUrl}/missing.html`],
    ['a template that does not parse', () => (writeFileSync(join(dir, 'bad.html'), '{{ if .Token }}unclosed'), join(dir, 'bad.html'))],
  ])('falls back to the default for %s, with a warning', async (_name, location) => {
    const { mail, warnings } = await render({ confirmation: location() });
    expect(mail.subject).toBe('Confirm Your Email');
    expect(mail.html).toContain('<h2>Confirm your email</h2>');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('mail template for confirmation could not be loaded: using the default');
  });

  it('keeps a loaded URL template cached, and its last good copy when a refresh fails', async () => {
    let now = Date.now();
    const { logger } = capturingLogger();
    const templates = createTemplateStore({ custom: { ...config().mailer.templates, magic_link: `${httpUrl}/magic.html` }, logger, clock: { now: () => new Date(now) } });
    const first = await templates.get('magic_link');
    httpDown = true;
    try {
      expect(await templates.get('magic_link')).toBe(first);
      now += 11 * 60_000;
      expect(await templates.get('magic_link')).toBe(first);
    } finally {
      httpDown = false;
    }
  });
});

describe('the log transport (no SMTP host)', () => {
  it('is chosen without GOTRUE_SMTP_HOST and prints the link and code at info', async () => {
    const { logger, lines } = capturingLogger();
    expect(transportFromConfig(config(), logger).name).toBe('log');
    const mailer = createMailer({ config: config(), transport: createLogTransport(logger), templates: createTemplateStore({ custom: config().mailer.templates, logger, clock }) });
    await mailer.sendMagicLink(input());
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(30);
    expect(lines[0]!.mail).toMatchObject({ kind: 'magic_link', to: 'ada@example.com', code: '123456' });
    expect(String(lines[0]!.msg)).toContain('https://auth.example.com/auth/v1/verify?token=pkce_0f0e&type=magiclink');
  });

  it('is never chosen when an SMTP host is configured', () => {
    expect(transportFromConfig(config({ GOTRUE_SMTP_HOST: 'mail' }), pino({ level: 'silent' })).name).toBe('smtp');
  });

  it('is never chosen on Postgres: mail is dropped with a warning that holds no link or code', async () => {
    const pgConfig = config({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', GOTRUE_JWT_SECRET: 'x'.repeat(32) });
    const { logger, lines } = capturingLogger();
    const transport = transportFromConfig(pgConfig, logger);
    expect(transport.name).toBe('none');
    const mailer = createMailer({ config: pgConfig, transport, templates: createTemplateStore({ custom: pgConfig.mailer.templates, logger, clock }) });
    await mailer.sendMagicLink(input());
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
    expect(JSON.stringify(lines[0])).not.toMatch(/123456|pkce_0f0e|verify\?token/);
  });
});
