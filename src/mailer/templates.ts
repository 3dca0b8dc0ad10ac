import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../crypto/clock';
import type { MailKind, NotificationKind } from '../config/config';
import { compileGoTemplate, type CompiledTemplate } from './go-template';

/**
 * Mail templates: the defaults in templates/ (HTML and text, read and compiled at start), and the custom HTML
 * templates of GOTRUE_MAILER_TEMPLATES_<KIND> (a URL or a file path).
 *
 * Custom templates load lazily, at the first mail of their kind, and are cached for CACHE_TTL_MS; after that the
 * next mail fetches them again, so an edited hosted template is picked up without a restart, and a failed refresh
 * keeps the last good copy. A template that cannot be loaded or does not parse is never fatal: the mail goes out
 * with the default template, a warning is logged, and loading is retried after RETRY_AFTER_MS.
 */

export const MAIL_KINDS: readonly MailKind[] = ['confirmation', 'invite', 'recovery', 'magic_link', 'email_change', 'reauthentication'];
/** Security notifications; their default files are templates/<kind>_notification.{html,txt}. */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['password_changed', 'email_changed', 'phone_changed', 'identity_linked', 'identity_unlinked', 'mfa_factor_enrolled', 'mfa_factor_unenrolled'];
/** Every template the store holds: a mail kind, or a notification as `<kind>_notification` (GoTrue's template names). */
export type TemplateKind = MailKind | `${NotificationKind}_notification`;
const TEMPLATE_KINDS: readonly TemplateKind[] = [...MAIL_KINDS, ...NOTIFICATION_KINDS.map((k) => `${k}_notification` as const)];

const CACHE_TTL_MS = 10 * 60_000;
const RETRY_AFTER_MS = 60_000;
const FETCH_TIMEOUT_MS = 10_000;
const MAX_TEMPLATE_BYTES = 1024 * 1024;

export interface MailTemplate {
  html: CompiledTemplate;
  /** Undefined for a custom template: the text part is then derived from the rendered HTML. */
  text: CompiledTemplate | undefined;
}

export interface TemplateStore {
  get(kind: TemplateKind): Promise<MailTemplate>;
}

export interface TemplateStoreOptions {
  custom: Partial<Record<TemplateKind, string | undefined>>;
  logger: Logger;
  clock: Clock;
  /** HTTP for URL templates; injected so the effect is visible (tests use a real local server). */
  fetch?: typeof fetch;
  /** Where the default templates live; defaults to the repository's templates/ folder. */
  defaultsDir?: URL;
}

/** Set by the build (hack/build.ts) to the way from dist/ to templates/; undeclared when run from source. */
declare const __TEMPLATES_FROM_BUNDLE__: string | undefined;
const DEFAULTS_DIR = new URL(typeof __TEMPLATES_FROM_BUNDLE__ === 'string' ? __TEMPLATES_FROM_BUNDLE__ : '../../templates/', import.meta.url);

function loadDefaults(dir: URL): Record<TemplateKind, MailTemplate> {
  const out = {} as Record<TemplateKind, MailTemplate>;
  for (const kind of TEMPLATE_KINDS) {
    out[kind] = {
      html: compileGoTemplate(readFileSync(new URL(`${kind}.html`, dir), 'utf8')),
      text: compileGoTemplate(readFileSync(new URL(`${kind}.txt`, dir), 'utf8')),
    };
  }
  return out;
}

async function fetchSource(location: string, doFetch: typeof fetch): Promise<string> {
  if (!/^https?:\/\//i.test(location)) return readFile(location, 'utf8');
  const res = await doFetch(location, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.text();
  if (Buffer.byteLength(body) > MAX_TEMPLATE_BYTES) throw new Error('template larger than 1 MiB');
  return body;
}

export function createTemplateStore(opts: TemplateStoreOptions): TemplateStore {
  const defaults = loadDefaults(opts.defaultsDir ?? DEFAULTS_DIR);
  const doFetch = opts.fetch ?? globalThis.fetch;
  const cache = new Map<TemplateKind, { template: MailTemplate | undefined; loadedAt: number; failedAt?: number }>();
  const inflight = new Map<TemplateKind, Promise<MailTemplate>>();

  const load = async (kind: TemplateKind, location: string): Promise<MailTemplate> => {
    const entry = cache.get(kind);
    const now = opts.clock.now().getTime();
    try {
      const html = compileGoTemplate(await fetchSource(location, doFetch));
      const template = { html, text: undefined };
      cache.set(kind, { template, loadedAt: now });
      return template;
    } catch (err) {
      // The location may hold credentials in a URL's query; log only its kind, and the reason.
      opts.logger.warn({ kind, reason: (err as Error).message }, `mail template for ${kind} could not be loaded: using ${entry?.template ? 'the last good copy' : 'the default'}`);
      cache.set(kind, { template: entry?.template, loadedAt: entry?.loadedAt ?? 0, failedAt: now });
      return entry?.template ?? defaults[kind];
    }
  };

  return {
    async get(kind) {
      const location = opts.custom[kind];
      if (!location) return defaults[kind];
      const entry = cache.get(kind);
      const now = opts.clock.now().getTime();
      const fresh = entry?.template && now - entry.loadedAt < CACHE_TTL_MS;
      const backingOff = entry?.failedAt !== undefined && now - entry.failedAt < RETRY_AFTER_MS;
      if (fresh || backingOff) return entry?.template ?? defaults[kind];
      let p = inflight.get(kind);
      if (!p) {
        p = load(kind, location).finally(() => inflight.delete(kind));
        inflight.set(kind, p);
      }
      return p;
    },
  };
}
