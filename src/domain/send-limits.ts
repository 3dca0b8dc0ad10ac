import type { Config } from '../config';
import type { Rate } from '../config/rate';
import { ApiError, tooManyRequests } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import type { RateLimitStore } from './rate-limit-store';

export interface SendLimitDeps {
  config: Config;
  rateLimitStore: RateLimitStore;
}

/**
 * GoTrue's server-wide send limits (GOTRUE_RATE_LIMIT_EMAIL_SENT, GOTRUE_RATE_LIMIT_SMS_SENT; 30 per hour by
 * default), counted in the rate-limit store, so every process sharing it shares the count. Called just before a
 * mail (an SMS) leaves; over the limit it throws 429 and the caller undoes what the message issued. As in GoTrue:
 * autoconfirm skips the count (GOTRUE_MAILER_AUTOCONFIRM for mail, GOTRUE_SMS_AUTOCONFIRM for SMS), a rate of 0
 * refuses every message (mail even under autoconfirm), and test-OTP phones, which get no SMS, are not counted (the
 * caller skips them). An email change sending to both addresses counts two mails (GoTrue counts one).
 */
export async function countEmailSend(deps: SendLimitDeps): Promise<void> {
  const limited = () => tooManyRequests(ErrorCodes.overEmailSendRateLimit, 'email rate limit exceeded');
  if (deps.config.rateLimit.emailSent.events === 0) throw limited();
  await count(deps.rateLimitStore, 'email_sent', deps.config.rateLimit.emailSent, deps.config.mailer.autoconfirm, limited);
}

/** The SMS counterpart of countEmailSend. */
export async function countSmsSend(deps: SendLimitDeps): Promise<void> {
  const limited = () => tooManyRequests(ErrorCodes.overSmsSendRateLimit, 'SMS rate limit exceeded');
  await count(deps.rateLimitStore, 'sms_sent', deps.config.rateLimit.smsSent, deps.config.sms.autoconfirm, limited);
}

/** True for the errors countEmailSend and countSmsSend throw, which a failed send passes on as they are. */
export function isSendLimitError(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 429 && (err.code === ErrorCodes.overEmailSendRateLimit || err.code === ErrorCodes.overSmsSendRateLimit);
}

async function count(store: RateLimitStore, name: string, rate: Rate, autoconfirm: boolean, limited: () => ApiError): Promise<void> {
  if (autoconfirm) return;
  if (rate.events === 0) throw limited();
  const verdict = await store.limiter(name, rate.events, rate.windowMs / 1000).consume('server');
  if (!verdict.allowed) throw limited();
}
