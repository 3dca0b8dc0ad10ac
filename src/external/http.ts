import { ProviderError, type Fetch } from './types';

/** Every call to a provider gives up after this long: a hung provider must not hold a request. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/** Wraps fetch so each call has a timeout (unless the caller brought its own signal). */
export function withTimeout(fetchFn: Fetch, ms = PROVIDER_TIMEOUT_MS): Fetch {
  return (input, init) => fetchFn(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(ms) });
}

/** Network failures and timeouts become ProviderError('unavailable'). */
export async function callProvider(fetchFn: Fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (err) {
    throw new ProviderError('unavailable', `could not reach ${new URL(url).host}`, { cause: err });
  }
}

/** Reads a JSON (or, as some token endpoints answer, form-encoded) body into an object. */
export async function readBody(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('application/x-www-form-urlencoded') || (!type.includes('json') && /^[\w.-]+=/.test(text))) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    if (Array.isArray(parsed)) return { items: parsed };
  } catch {
    // fall through
  }
  throw new ProviderError(res.status >= 500 ? 'unavailable' : 'invalid_response', `provider answered ${res.status} with a body that is not JSON`);
}

/** GET a JSON resource with a Bearer token; 5xx → unavailable, other failures → rejected. */
export async function getJson(fetchFn: Fetch, url: string, accessToken: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await callProvider(fetchFn, url, { headers: { Accept: 'application/json', Authorization: `Bearer ${accessToken}`, ...headers } });
  if (res.status >= 500) throw new ProviderError('unavailable', `${new URL(url).host} answered ${res.status}`);
  if (!res.ok) throw new ProviderError('rejected', `${new URL(url).host} answered ${res.status}`, { oauthError: res.status === 401 ? 'invalid_token' : undefined });
  const body = await readBody(res);
  return 'items' in body && Object.keys(body).length === 1 ? body.items : body;
}
