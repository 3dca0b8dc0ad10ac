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

export interface SmsProvider {
  readonly name: string;
  send(msg: SmsMessage): Promise<{ messageId: string }>;
  /** Only for vendors that own the code (twilio_verify): true when the vendor accepts the code. */
  verifyOtp?(to: string, code: string): Promise<boolean>;
}

/** GoTrue's SMS template placeholder is `{{ .Code }}`; its default template is "Your code is {{ .Code }}". */
export function renderSmsTemplate(template: string, otp: string): string {
  return template.replace(/\{\{\s*\.Code\s*\}\}/g, otp);
}
