import { describe, expect, it } from 'vitest';
import { escapeHtml, html, safeHref, SafeHtml } from '../../src/features/oauth-pages/html';
import { consentPage, signInPage, STYLE_HASH } from '../../src/features/oauth-pages/views';

/** The hosted pages' escaped-HTML helpers: user data never becomes markup. */

describe('escapeHtml', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    [`" onmouseover="x`, '&quot; onmouseover=&quot;x'],
    [`' autofocus onfocus='x`, '&#39; autofocus onfocus=&#39;x'],
    ['Tom & Jerry', 'Tom &amp; Jerry'],
    ['&amp;', '&amp;amp;'],
    ['plain text, é ✓', 'plain text, é ✓'],
  ])('%s', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });
});

describe('html``', () => {
  it('escapes every interpolated value and keeps the template text', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(html`<p title="${name}">${name}</p>`.value).toBe('<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</p>');
  });

  it('inserts nested html as markup, lists joined, and nothing for null, undefined and false', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
  });

  it('does not treat a string that looks like markup, or an object with a value, as SafeHtml', () => {
    const fake = { value: '<b>' } as unknown as string;
    expect(html`${fake}`.value).toBe('[object Object]');
    expect(html`${'<b>'}`.value).toBe('&lt;b&gt;');
    expect(html`${new SafeHtml('<b>')}`.value).toBe('<b>');
  });
});

describe('safeHref', () => {
  it.each([
    ['https://app.example.com/about', 'https://app.example.com/about'],
    ['http://localhost:3000', 'http://localhost:3000/'],
    ['javascript:alert(1)', undefined],
    ['data:text/html,<b>', undefined],
    ['not a url', undefined],
    [null, undefined],
  ])('%s', (input, expected) => {
    expect(safeHref(input)).toBe(expected);
  });
});

describe('views', () => {
  it('a hostile app name, email and error message appear only escaped', () => {
    const evil = `"><script>alert(1)</script>`;
    const page = signInPage({ authorizationId: evil, csrf: evil, appName: evil, email: evil, error: { message: evil, fields: ['email'] } }).value;
    const consent = consentPage({ authorizationId: evil, csrf: evil, appName: evil, clientUri: 'javascript:alert(1)', email: evil, scopes: [evil] }).value;
    for (const p of [page, consent]) {
      expect(p).not.toContain('<script>');
      expect(p).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(consent).not.toContain('javascript:');
  });

  it("the consent page shows a metadata-document client's host beside its self-chosen name, escaped; none for a registered client", () => {
    const base = { authorizationId: 'a', csrf: 'c', appName: 'Google Drive', clientUri: null, email: 'u@example.com', scopes: ['openid'] };
    expect(consentPage({ ...base, clientIdHost: 'mcp.evil.example:8443' }).value).toContain('This app describes itself from <strong>mcp.evil.example:8443</strong>');
    expect(consentPage({ ...base, clientIdHost: '<b>x' }).value).toContain('<strong>&lt;b&gt;x</strong>');
    expect(consentPage(base).value).not.toContain('describes itself');
  });

  it('the style element is the text the CSP hash allows', async () => {
    const { createHash } = await import('node:crypto');
    const page = signInPage({ authorizationId: 'a', csrf: 'c', appName: 'App' }).value;
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    expect(STYLE_HASH).toBe(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });
});
