import type { Config } from '../config';
import type { Fetch } from '../external/types';

/** What hCaptcha's and Turnstile's siteverify both answer (the fields GoTrue reads). */
export interface CaptchaVerdict {
  success: boolean;
  errorCodes: string[];
}

/** Verifies a CAPTCHA token with the configured provider; throws when the provider cannot be asked. */
export interface CaptchaVerifier {
  verify(token: string, clientIp: string): Promise<CaptchaVerdict>;
}

/**
 * GoTrue's HTTPCaptchaVerifier: one form-encoded POST of `secret`, `response` and `remoteip` to the provider's
 * siteverify URL (hCaptcha and Turnstile share the protocol), within GOTRUE_SECURITY_CAPTCHA_TIMEOUT. A network
 * failure, a timeout or a body that is not JSON throws (the caller answers 500, as GoTrue); a well-formed answer
 * with `success: false` is a verdict, not an error.
 */
export function createCaptchaVerifier(config: Config['captcha'], fetchFn: Fetch): CaptchaVerifier {
  return {
    async verify(token, clientIp) {
      const body = new URLSearchParams({ secret: config.secret, response: token, remoteip: clientIp });
      const res = await fetchFn(config.verifyUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      let parsed: unknown;
      try {
        parsed = await res.json();
      } catch (cause) {
        throw new Error(`failed to decode captcha response (HTTP ${res.status}): not JSON`, { cause });
      }
      if (!parsed || typeof parsed !== 'object') throw new Error(`captcha response (HTTP ${res.status}) is not a JSON object`);
      const o = parsed as Record<string, unknown>;
      const codes = Array.isArray(o['error-codes']) ? o['error-codes'].filter((c): c is string => typeof c === 'string') : [];
      return { success: o.success === true, errorCodes: codes };
    },
  };
}
