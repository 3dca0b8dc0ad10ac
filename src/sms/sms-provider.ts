/** The SMS sending seam (STYLE.md "Adapters"): one small file per vendor implements it. */
export type SmsChannel = 'sms' | 'whatsapp';

export interface SmsMessage {
  /** Phone as stored: E.164 digits without '+'. Adapters add the '+' where the vendor wants it. */
  to: string;
  /** The rendered text (GOTRUE_SMS_TEMPLATE with the OTP filled in). */
  body: string;
  /** The OTP itself (Twilio Verify sends its own code; test OTPs skip sending). */
  otp: string;
  channel: SmsChannel;
}

/**
 * One SMS vendor. `send` resolves with the vendor's message id, or rejects with ApiError `sms_send_failed` (422)
 * whatever went wrong (vendor refusal, HTTP error, network error, timeout); the client message never carries
 * credentials or the vendor's reply, the vendor's reason is in `cause` for the log.
 */
export interface SmsProvider {
  readonly name: string;
  send(msg: SmsMessage): Promise<{ messageId: string }>;
  /** Only for vendors that own the code (twilio_verify): true when the vendor accepts the code. */
  verifyOtp?(to: string, code: string): Promise<boolean>;
}

/** GoTrue's default GOTRUE_SMS_TEMPLATE. */
export const DEFAULT_SMS_TEMPLATE = 'Your code is {{ .Code }}';

// `{{ .Code }}` as Go's text/template reads it: spaces optional inside, `{{- ` / ` -}}` trim the whitespace beside.
const CODE_ACTION = /(\s*)\{\{(-\s)?\s*\.Code\s*(\s-)?\}\}(\s*)/g;

/**
 * Fills the OTP into a GoTrue SMS template. Only `.Code` is offered, as in GoTrue; the text is not escaped
 * (an SMS is plain text).
 */
export function renderSmsTemplate(template: string, otp: string): string {
  return template.replace(CODE_ACTION, (_all, before: string, trimLeft?: string, trimRight?: string, after?: string) => {
    return `${trimLeft ? '' : before}${otp}${trimRight ? '' : (after ?? '')}`;
  });
}
