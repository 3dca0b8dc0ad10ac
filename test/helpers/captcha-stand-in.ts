import { startVendorStandIn, type RecordedRequest, type VendorStandIn } from './vendor-stand-in';

/** Tokens the stand-in accepts; anything else is refused with the provider's "invalid-input-response". */
export const GOOD_CAPTCHA_TOKEN = 'good-captcha-token';

/**
 * A local siteverify endpoint answering as hCaptcha or Cloudflare Turnstile do (their documented response bodies):
 * success for GOOD_CAPTCHA_TOKEN sent with the expected secret, else `success: false` with `error-codes`.
 */
export async function startCaptchaStandIn(provider: 'hcaptcha' | 'turnstile', secret: string): Promise<VendorStandIn> {
  const stand = await startVendorStandIn({ status: 200, json: {} });
  stand.reply((req: RecordedRequest) => {
    const errors: string[] = [];
    if (req.form.secret !== secret) errors.push('invalid-input-secret');
    if (req.form.response !== GOOD_CAPTCHA_TOKEN) errors.push('invalid-input-response');
    const ok = errors.length === 0;
    const ts = new Date().toISOString();
    const json =
      provider === 'hcaptcha'
        ? { success: ok, challenge_ts: ts, hostname: 'app.example.com', credit: false, ...(ok ? {} : { 'error-codes': errors }) }
        : { success: ok, challenge_ts: ts, hostname: 'app.example.com', 'error-codes': errors, action: '', cdata: '', metadata: {} };
    return { status: 200, json };
  });
  return stand;
}
