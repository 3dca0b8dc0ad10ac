/**
 * Escaped HTML for the hosted pages, the one way they build markup: `html` is a tagged template whose every
 * interpolated value is escaped for text and quoted-attribute contexts, unless it is already SafeHtml (the result of
 * another `html`). So user data (a client's name, an email, an error message) can never become markup; write every
 * attribute value in double quotes.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for an HTML text node or a quoted attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Markup that is already safe: built by `html`, or a constant of this module's callers (never user data). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What `html` interpolates: text (escaped), markup, lists of either; null, undefined and false render nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** html`<p>${text}</p>`: the template's own text is kept, every value escaped (see the module comment). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** A link target a page may show: http(s) only, so a hostile `javascript:` or `data:` URI is not a link. */
export function safeHref(uri: string | null | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    const u = new URL(uri);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}
