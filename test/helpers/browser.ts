/**
 * A browser stand-in for OAuth round trips: follows redirects by hand, keeps cookies per host, and fills the
 * login and consent forms of oidc-provider's dev interactions. `routes` maps a public URL prefix to where it
 * really listens (the server's API_EXTERNAL_URL to the test server's loopback port).
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];

  constructor(
    private readonly routes: Record<string, string> = {},
    private readonly login = 'alice',
  ) {}

  private route(url: string): string {
    for (const [from, to] of Object.entries(this.routes)) if (url.startsWith(from)) return to + url.slice(from.length);
    return url;
  }

  private cookieHeader(url: URL): string | undefined {
    const c = this.jar.get(url.host);
    return c && c.size > 0 ? [...c].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private keep(url: URL, res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const c = this.jar.get(url.host) ?? new Map<string, string>();
      const value = pair!.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') c.delete(pair!.slice(0, eq));
      else c.set(pair!.slice(0, eq), value);
      this.jar.set(url.host, c);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(this.route(url));
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method: init.method ?? 'GET', headers, body: init.form ? new URLSearchParams(init.form) : undefined, redirect: 'manual' });
    this.keep(target, res);
    return res;
  }

  /**
   * Opens `url` and follows redirects and the provider's forms until a URL for which `stop` is true: that URL is
   * returned without being fetched (it is the app's page, which does not exist in tests).
   */
  async navigate(url: string, stop: (u: string) => boolean, max = 20): Promise<string> {
    let next: { url: string; method?: string; form?: Record<string, string> } = { url };
    for (let i = 0; i < max; i++) {
      if (stop(next.url)) return next.url;
      this.visited.push(next.url);
      const res = await this.request(next.url, next);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        next = { url: new URL(location, this.route(next.url)).href };
        continue;
      }
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (res.status === 200 && action && prompt) {
        const form: Record<string, string> = prompt === 'login' ? { prompt, login: this.login, password: 'any' } : { prompt };
        next = { url: new URL(action.replace(/&amp;/g, '&'), this.route(next.url)).href, method: 'POST', form };
        continue;
      }
      throw new Error(`browser stopped at ${next.url}: ${res.status} ${html.slice(0, 300)}`);
    }
    throw new Error('too many redirects');
  }
}

/** The fragment of a URL as a record. */
export const fragmentOf = (url: string) => Object.fromEntries(new URLSearchParams(new URL(url).hash.slice(1)));
export const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams);

/** A JSON body from the server under test; tests read it loosely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
export const jsonOf = async (res: Response | Promise<Response>): Promise<Loose> => (await res).json();
