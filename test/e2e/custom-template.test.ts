import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { authClient, useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { uniqueEmail } from '../helpers/test-server';

const dir = mkdtempSync(join(tmpdir(), 'gotrue-custom-'));

/** A confirmation template as GoTrue users write them for server-side auth: their own route, token_hash, a greeting from user data. */
const TEMPLATE = `<h2>Welcome to {{ .SiteURL }}</h2>
{{ if .Data.name }}<p>Hi {{ .Data.name }},</p>{{ else }}<p>Hi,</p>{{ end }}
<p><a href="{{ .SiteURL }}/auth/confirm?token_hash={{ .TokenHash }}&type=email&next={{ .RedirectTo }}">Confirm {{ .Email }}</a></p>
{{ if .Token }}<p>Your code: {{ .Token }}</p>{{ end }}`;

beforeAll(() => {
  writeFileSync(join(dir, 'confirm.html'), TEMPLATE);
});
const server = useTestApp({
  mail: true,
  env: {
    GOTRUE_MAILER_TEMPLATES_CONFIRMATION: join(dir, 'confirm.html'),
    GOTRUE_MAILER_SUBJECTS_CONFIRMATION: 'Welcome aboard',
  },
});

describe(`a GoTrue-style custom template (${dbKind})`, () => {
  it('renders from its file, and its token_hash link verifies through auth-js', async () => {
    const email = uniqueEmail('custom');
    const auth = authClient(server);
    expect((await auth.signUp({ email, password: 'pass-word-1', options: { data: { name: 'Ada & <Co>' } } })).error).toBeNull();
    const mail = await server.mail.next(email);
    expect(mail.subject).toBe('Welcome aboard');
    const link = new URL(mail.link!);
    const tokenHash = link.searchParams.get('token_hash')!;
    expect(mail.html).toBe(
      `<h2>Welcome to http://localhost:3000</h2>\n<p>Hi Ada &amp; &lt;Co&gt;,</p>\n` +
        `<p><a href="http://localhost:3000/auth/confirm?token_hash=${tokenHash}&type=email&next=http://localhost:3000">Confirm ${email}</a></p>\n` +
        `<p>Your code: ${mail.otp}</p>`,
    );
    expect(mail.text).toContain(`Confirm ${email}: http://localhost:3000/auth/confirm?token_hash=${tokenHash}`);
    const verified = await auth.verifyOtp({ token_hash: tokenHash, type: 'email' });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email_confirmed_at).toBeTypeOf('string');
  });
});
