import type { Config } from '../config';

/**
 * The fixed code GOTRUE_SMS_TEST_OTP gives `phone` (E.164 digits, no '+'), while GOTRUE_SMS_TEST_OTP_VALID_UNTIL
 * has not passed; undefined otherwise. A phone with a test code gets no SMS: the caller stores this code instead
 * of a random one and skips `send`, as GoTrue does.
 */
export function getTestOtp(sms: Pick<Config['sms'], 'testOtp' | 'testOtpValidUntil'>, phone: string, now: Date): string | undefined {
  if (sms.testOtpValidUntil !== undefined && now.getTime() >= sms.testOtpValidUntil) return undefined;
  return Object.hasOwn(sms.testOtp, phone) ? sms.testOtp[phone] : undefined;
}
