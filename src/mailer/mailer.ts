import type { Logger } from 'pino';
import type { Config, LinkMailKind, MailKind, NotificationKind } from '../config/config';
import type { Clock } from '../crypto/clock';
import type { JsonObject } from '../db/schema';
import { escapeHtml, noEscape } from './go-template';
import { htmlToText } from './html-to-text';
import { createDropTransport, createLogTransport } from './log-transport';
import { createSmtpTransport } from './smtp-transport';
import { createTemplateStore, type TemplateStore } from './templates';
import type { MailTransport } from './transport';

/** What one mail is about; the mailer turns it into GoTrue's template data. */
export interface MailInput {
  /** The address the mail goes to. */
  to: string;
  /** The user's current email ({{ .Email }}). */
  email: string;
  /** The address being changed to ({{ .NewEmail }}); email change only. */
  newEmail?: string;
  /** The code a user can type ({{ .Token }}). */
  otp: string;
  /** The stored token, maybe `pkce_`-prefixed ({{ .TokenHash }}); the link carries it. */
  tokenHash: string;
  /** Where the link lands after verification ({{ .RedirectTo }}), already validated. */
  redirectTo: string;
  /** The user's user_metadata ({{ .Data }}). */
  data: JsonObject | null;
}

/** What a security notification says; the mailer adds SiteURL. Absent fields render as ''. */
export interface NotificationInput {
  /** The address the mail goes to (for an email change: the old address). */
  to: string;
  /** The user's email ({{ .Email }}; for an email change the new address). */
  email: string;
  oldEmail?: string;
  phone?: string;
  oldPhone?: string;
  /** The identity's provider (identity linked/unlinked). */
  provider?: string;
  /** The factor's type (MFA factor enrolled/unenrolled). */
  factorType?: string;
  /** The user's user_metadata ({{ .Data }}). */
  data: JsonObject | null;
}

/** The domain mailer (STYLE.md "Adapters"): one method per mail GoTrue sends. Throws MailSendError. */
export interface Mailer {
  readonly transport: MailTransport['name'];
  sendConfirmation(m: MailInput): Promise<void>;
  sendInvite(m: MailInput): Promise<void>;
  sendRecovery(m: MailInput): Promise<void>;
  sendMagicLink(m: MailInput): Promise<void>;
  sendEmailChange(m: MailInput): Promise<void>;
  sendReauthentication(m: MailInput): Promise<void>;
  /** A security notification (GoTrue's *_notification templates); the caller checks it is enabled. */
  sendNotification(kind: NotificationKind, n: NotificationInput): Promise<void>;
}

/** GoTrue's default subjects of the security notifications. */
export const DEFAULT_NOTIFICATION_SUBJECTS: Record<NotificationKind, string> = {
  password_changed: 'Your password was changed',
  email_changed: 'Your email address was changed',
  phone_changed: 'Your phone number was changed',
  identity_linked: 'A new sign-in method was linked to your account',
  identity_unlinked: 'A sign-in method was removed from your account',
  mfa_factor_enrolled: 'A new verification method was added to your account',
  mfa_factor_unenrolled: 'A verification method was removed from your account',
};

export const DEFAULT_SUBJECTS: Record<MailKind, string> = {
  confirmation: 'Confirm Your Email',
  invite: 'You have been invited',
  recovery: 'Reset Your Password',
  magic_link: 'Your Magic Link',
  email_change: 'Confirm Email Change',
  reauthentication: 'Confirm reauthentication',
};

/** The `type` a mail's link verifies as (GET /verify?type=…). */
const LINK_TYPE: Record<LinkMailKind, string> = {
  confirmation: 'signup',
  invite: 'invite',
  recovery: 'recovery',
  magic_link: 'magiclink',
  email_change: 'email_change',
};

type MailerConfig = Pick<Config, 'siteUrl' | 'api' | 'mailer'> & Partial<Pick<Config, 'notifications'>>;

/**
 * The link of a mail: GOTRUE_MAILER_URLPATHS_<KIND> joined to API_EXTERNAL_URL (keeping its path, so
 * `https://x.supabase.co/auth/v1` + `/verify` = `…/auth/v1/verify`), or that setting itself when it is an absolute URL,
 * with GoTrue's query `token`, `type`, `redirect_to`.
 */
export function confirmationUrl(config: MailerConfig, kind: LinkMailKind, tokenHash: string, redirectTo: string): string {
  const path = config.mailer.urlPaths[kind];
  let base: URL;
  if (/^https?:\/\//i.test(path)) base = new URL(path);
  else {
    base = new URL(config.api.externalUrl);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  }
  base.search = '';
  base.hash = '';
  const q = new URLSearchParams({ token: tokenHash, type: LINK_TYPE[kind], redirect_to: redirectTo });
  return `${base.toString()}?${q.toString()}`;
}

export interface MailerOptions {
  config: MailerConfig;
  transport: MailTransport;
  templates: TemplateStore;
}

export function createMailer({ config, transport, templates }: MailerOptions): Mailer {
  const send = async (kind: MailKind, m: MailInput) => {
    const link = kind === 'reauthentication' ? undefined : confirmationUrl(config, kind, m.tokenHash, m.redirectTo);
    const data: Record<string, unknown> = {
      ConfirmationURL: link ?? '',
      Token: m.otp,
      TokenHash: m.tokenHash,
      SiteURL: config.siteUrl,
      RedirectTo: m.redirectTo,
      Email: m.email,
      NewEmail: m.newEmail ?? '',
      Data: m.data ?? {},
    };
    const template = await templates.get(kind);
    const html = template.html.render(data, escapeHtml);
    const text = template.text ? template.text.render(data, noEscape) : htmlToText(html);
    await transport.send({ kind, to: m.to, subject: config.mailer.subjects[kind] ?? DEFAULT_SUBJECTS[kind], html, text, link, otp: m.otp });
  };
  const sendNotification = async (kind: NotificationKind, n: NotificationInput) => {
    const data: Record<string, unknown> = {
      SiteURL: config.siteUrl,
      Email: n.email,
      OldEmail: n.oldEmail ?? '',
      Phone: n.phone ?? '',
      OldPhone: n.oldPhone ?? '',
      Provider: n.provider ?? '',
      FactorType: n.factorType ?? '',
      Data: n.data ?? {},
    };
    const template = await templates.get(`${kind}_notification`);
    const html = template.html.render(data, escapeHtml);
    const text = template.text ? template.text.render(data, noEscape) : htmlToText(html);
    const subject = config.notifications?.subjects[kind] ?? DEFAULT_NOTIFICATION_SUBJECTS[kind];
    await transport.send({ kind: `${kind}_notification`, to: n.to, subject, html, text, link: undefined, otp: '' });
  };
  return {
    transport: transport.name,
    sendNotification,
    sendConfirmation: (m) => send('confirmation', m),
    sendInvite: (m) => send('invite', m),
    sendRecovery: (m) => send('recovery', m),
    sendMagicLink: (m) => send('magic_link', m),
    sendEmailChange: (m) => send('email_change', m),
    sendReauthentication: (m) => send('reauthentication', m),
  };
}

/**
 * The mail transport the configuration asks for: SMTP when GOTRUE_SMTP_HOST is set; else, on the embedded
 * database, the log (links and codes for local development); else none (mail dropped with a warning).
 */
export function transportFromConfig(config: Pick<Config, 'smtp' | 'siteUrl' | 'db'>, logger: Logger): MailTransport {
  const { smtp } = config;
  if (!smtp.host) return config.db.url ? createDropTransport(logger) : createLogTransport(logger);
  const address = smtp.adminEmail ?? `no-reply@${new URL(config.siteUrl).hostname}`;
  return createSmtpTransport({
    host: smtp.host,
    port: smtp.port,
    user: smtp.user,
    pass: smtp.pass,
    from: { name: smtp.senderName ?? '', address },
  });
}

/** The configured mailer: templates from config, the transport config implies. */
export function mailerFromConfig(config: Config, logger: Logger, clock: Clock, transport?: MailTransport): Mailer {
  return createMailer({
    config,
    transport: transport ?? transportFromConfig(config, logger),
    templates: createTemplateStore({ custom: { ...config.mailer.templates, ...notificationTemplates(config) }, logger, clock }),
  });
}

/** GOTRUE_MAILER_TEMPLATES_<KIND>_NOTIFICATION keyed as the template store names them. */
function notificationTemplates(config: Config): Partial<Record<`${NotificationKind}_notification`, string | undefined>> {
  return Object.fromEntries(Object.entries(config.notifications.templates).map(([k, v]) => [`${k}_notification`, v]));
}
