import { describe, expect, it } from 'vitest';
import { compileGoTemplate, escapeHtml, noEscape, TemplateError } from '../../src/mailer/go-template';
import { htmlToText } from '../../src/mailer/html-to-text';

const data = {
  ConfirmationURL: 'https://auth.example.com/verify?token=abc&type=signup&redirect_to=https%3A%2F%2Fapp.example.com',
  Token: '123456',
  TokenHash: 'abc',
  SiteURL: 'https://app.example.com',
  RedirectTo: 'https://app.example.com/welcome',
  Email: 'ada@example.com',
  NewEmail: '',
  Data: { name: 'Ada <Lovelace>', plan: 'pro', nested: { lang: 'fr' } },
};
const html = (src: string) => compileGoTemplate(src).render(data, escapeHtml);
const text = (src: string) => compileGoTemplate(src).render(data, noEscape);

describe('Go template subset', () => {
  it.each([
    ['{{ .Token }}', '123456'],
    ['{{.Token}}', '123456'],
    ['{{ .Data.plan }}', 'pro'],
    ['{{ .Data.nested.lang }}', 'fr'],
    ['{{ .Data.missing }}', ''],
    ['{{ .NotAField }}', ''],
    ['a {{- " b " -}} c', 'a b c'],
    ['x  {{- .Token }}', 'x123456'],
    ['{{ .Token -}}   y', '123456y'],
    ['{{/* a comment */}}z', 'z'],
    ['{{ if .Token }}code {{ .Token }}{{ else }}link{{ end }}', 'code 123456'],
    ['{{ if .NewEmail }}new{{ else }}same{{ end }}', 'same'],
    ['{{ if eq .Data.plan "pro" }}P{{ else if eq .Data.plan "free" }}F{{ else }}?{{ end }}', 'P'],
    ['{{ if eq .Data.plan "free" "pro" }}one of{{ end }}', 'one of'],
    ['{{ if ne .Data.plan "pro" }}x{{ else }}y{{ end }}', 'y'],
    ['{{ if and .Token (not .NewEmail) }}ok{{ end }}', 'ok'],
    ['{{ if or .NewEmail .Email }}{{ .Email }}{{ end }}', 'ada@example.com'],
    ['{{ with .Data.nested }}{{ .lang }}{{ else }}none{{ end }}', 'fr'],
    ['{{ with .Data.nothing }}{{ . }}{{ else }}none{{ end }}', 'none'],
    ['{{ index .Data "plan" }}', 'pro'],
    ['{{ .Email | urlquery }}', 'ada%40example.com'],
    ['{{ len .Token }}', '6'],
  ])('renders %s', (src, want) => {
    expect(text(src)).toBe(want);
  });

  it('HTML-escapes values but not the template text', () => {
    expect(html('<b>{{ .Data.name }}</b>')).toBe('<b>Ada &lt;Lovelace&gt;</b>');
    expect(html('<a href="{{ .ConfirmationURL }}">go</a>')).toBe(
      '<a href="https://auth.example.com/verify?token=abc&amp;type=signup&amp;redirect_to=https%3A%2F%2Fapp.example.com">go</a>',
    );
  });

  it('renders a GoTrue-style custom template unchanged', () => {
    const src = [
      '<h2>Confirm your signup</h2>',
      '{{ if .Data.name }}<p>Hi {{ .Data.name }},</p>{{ end }}',
      '<p><a href="{{ .SiteURL }}/auth/confirm?token_hash={{ .TokenHash }}&type=email&next={{ .RedirectTo }}">Confirm</a></p>',
      '<p>Code: {{ .Token }}</p>',
    ].join('\n');
    expect(html(src)).toBe(
      [
        '<h2>Confirm your signup</h2>',
        '<p>Hi Ada &lt;Lovelace&gt;,</p>',
        '<p><a href="https://app.example.com/auth/confirm?token_hash=abc&type=email&next=https://app.example.com/welcome">Confirm</a></p>',
        '<p>Code: 123456</p>',
      ].join('\n'),
    );
  });

  it.each([
    ['{{ .Token }', 'unclosed action'],
    ['{{ if .Token }}x', 'missing {{end}}'],
    ['x{{ end }}', 'unexpected'],
    ['{{ printf "%s" .Token }}', 'not defined'],
    ['{{ range .Data }}x{{ end }}', 'not supported'],
    ['{{ if .Token }}a{{ else }}b{{ else }}c{{ end }}', 'followed by {{end}}'],
  ])('refuses %s at compile time', (src, message) => {
    expect(() => compileGoTemplate(src)).toThrow(TemplateError);
    expect(() => compileGoTemplate(src)).toThrow(message);
  });
});

describe('htmlToText', () => {
  it('keeps link targets, breaks blocks and decodes entities', () => {
    const out = htmlToText('<html><head><style>p{}</style></head><body><h2>Hi &amp; welcome</h2><p>Follow <a href="https://x.example/v?a=1&amp;b=2">this link</a></p><p>Code: 123456</p></body></html>');
    expect(out).toBe('Hi & welcome\n\nFollow this link: https://x.example/v?a=1&b=2\n\nCode: 123456');
  });
});
