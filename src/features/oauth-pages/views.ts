import { createHash } from 'node:crypto';
import { html, safeHref, SafeHtml, type HtmlValue } from './html';

/**
 * The hosted pages' markup: sign-in, TOTP code, "add a second factor", consent, and a message page for errors.
 * Plain server-rendered HTML, no script: every field has a label and an autocomplete hint, errors are announced
 * (role="alert") and tied to their fields (aria-describedby, aria-invalid). Forms post to paths relative to
 * /oauth/pages/, so the pages work under any prefix API_EXTERNAL_URL has.
 */

/** The one stylesheet, inline: the CSP allows exactly this text by its hash (STYLE_HASH), nothing else. */
const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24;line-height:1.5}',
  'main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d0d5dc;border-radius:8px}',
  'h1{font-size:1.4rem;margin-top:0}',
  'label{display:block;font-weight:600;margin-top:1rem}',
  'input[type=email],input[type=password],input[type=text]{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem;border:1px solid #8a94a3;border-radius:4px}',
  '[aria-invalid=true]{border-color:#b00020}',
  '.error{color:#b00020;font-weight:600}',
  'button{margin-top:1.25rem;margin-right:.5rem;padding:.55rem 1.2rem;font-size:1rem;border-radius:4px;border:1px solid #1b1f24;background:#1b1f24;color:#fff;cursor:pointer}',
  'button.secondary{background:#fff;color:#1b1f24}',
  'button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #2f6fde;outline-offset:2px}',
  'fieldset{border:0;padding:0;margin:1rem 0 0}',
].join('');

/** `'sha256-…'` of STYLE, for the Content-Security-Policy's style-src. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

function layout(title: string, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** The hidden fields every form carries: the CSRF token and the authorization request it answers. */
const hidden = (csrf: string, authorizationId: string) =>
  html`<input type="hidden" name="csrf_token" value="${csrf}"><input type="hidden" name="authorization_id" value="${authorizationId}">`;

/** An error announced to assistive technology, with the id the fields it concerns point at. */
const errorText = (id: string, message: string | undefined) => (message ? html`<p id="${id}" class="error" role="alert">${message}</p>` : '');

/** aria attributes of a field an error concerns. */
const invalid = (on: boolean, errorId: string) => (on ? html` aria-invalid="true" aria-describedby="${errorId}"` : '');

export interface SignInView {
  authorizationId: string;
  csrf: string;
  appName: string;
  email?: string;
  /** The message and the fields it concerns (a wrong password concerns both: which one is not said). */
  error?: { message: string; fields: ('email' | 'password')[] };
}

export function signInPage(v: SignInView): SafeHtml {
  const on = (f: 'email' | 'password') => v.error?.fields.includes(f) ?? false;
  return layout(
    'Sign in',
    html`<p>Sign in to continue to <strong>${v.appName}</strong>.</p>
${errorText('sign-in-error', v.error?.message)}
<form method="post" action="sign-in">
${hidden(v.csrf, v.authorizationId)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${v.email ?? ''}"${invalid(on('email'), 'sign-in-error')}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid(on('password'), 'sign-in-error')}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface TotpView {
  authorizationId: string;
  csrf: string;
  appName: string;
  factors: { id: string; name: string }[];
  error?: string;
}

export function totpPage(v: TotpView): SafeHtml {
  const choice =
    v.factors.length === 1
      ? html`<input type="hidden" name="factor_id" value="${v.factors[0]!.id}">`
      : html`<fieldset><legend>Authenticator</legend>${v.factors.map(
          (f, i) => html`<label><input type="radio" name="factor_id" value="${f.id}"${i === 0 ? html` checked` : ''}> ${f.name}</label>`,
        )}</fieldset>`;
  return layout(
    'Two-factor authentication',
    html`<p>Enter the 6-digit code from your authenticator app to continue to <strong>${v.appName}</strong>.</p>
${errorText('code-error', v.error)}
<form method="post" action="mfa">
${hidden(v.csrf, v.authorizationId)}
${choice}
<label for="code">Authentication code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required${invalid(!!v.error, 'code-error')}>
<button type="submit">Verify</button>
</form>`,
  );
}

export interface EnrolView {
  authorizationId: string;
  csrf: string;
  appName: string;
  /** The user has a second factor, just not one these pages can check (a phone). */
  hasOtherFactor: boolean;
}

/** The client requires MFA and the user has no factor these pages can check: say so, offer to go back. */
export function enrolPage(v: EnrolView): SafeHtml {
  const why = v.hasOtherFactor
    ? html`<p><strong>${v.appName}</strong> requires multi-factor authentication, and these pages can only check an authenticator app (TOTP) code.</p>`
    : html`<p><strong>${v.appName}</strong> requires multi-factor authentication, and your account has no second factor yet.</p>`;
  return layout(
    'Add a second factor to use this app',
    html`${why}
<p>Add an authenticator app to your account, then start signing in to the app again.</p>
<form method="post" action="consent">
${hidden(v.csrf, v.authorizationId)}
<button type="submit" name="action" value="deny" class="secondary">Return to the app</button>
</form>`,
  );
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm your identity',
  email: 'See your email address',
  profile: 'See your name and profile details',
  phone: 'See your phone number',
  offline_access: 'Keep access while you are away (stay signed in)',
};

export interface ConsentView {
  authorizationId: string;
  csrf: string;
  appName: string;
  /** A metadata-document client's client_id host, shown beside the name the client chose for itself. */
  clientIdHost?: string | undefined;
  clientUri: string | null;
  email: string;
  scopes: string[];
}

export function consentPage(v: ConsentView): SafeHtml {
  const href = safeHref(v.clientUri);
  return layout(
    `Allow ${v.appName} to access your account?`,
    html`<p><strong>${v.appName}</strong> wants to access your account <strong>${v.email}</strong>.</p>
${v.clientIdHost ? html`<p>This app describes itself from <strong>${v.clientIdHost}</strong>: allow it only if you trust that site.</p>` : ''}
${href ? html`<p>About the app: <a href="${href}" rel="noopener noreferrer">${href}</a></p>` : ''}
<p id="scopes-label">It will be able to:</p>
<ul aria-labelledby="scopes-label">
${v.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s} <code>${s}</code></li>`)}
</ul>
<form method="post" action="consent">
${hidden(v.csrf, v.authorizationId)}
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

/** A page that only tells something: an error (unknown or expired request, refused form), with its code. */
export function messagePage(title: string, message: string, code?: string): SafeHtml {
  return layout(title, html`<p role="alert">${message}</p>${code ? html`<p>Error code: <code>${code}</code></p>` : ''}`);
}
