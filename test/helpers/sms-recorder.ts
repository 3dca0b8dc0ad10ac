import type { SmsMessage, SmsProvider } from '../../src/sms/sms-provider';

/**
 * A stand-in for the SMS vendor (the outside world): records what would have been texted, or fails like a vendor
 * that is down. The vendor adapters themselves are tested against local HTTP stand-ins of each vendor's API.
 */
export interface RecordingSms extends SmsProvider {
  sent: SmsMessage[];
  fail: boolean;
  /** The last message texted to this phone (digits), or undefined. */
  lastTo(phone: string): SmsMessage | undefined;
}

export function recordingSms(): RecordingSms {
  const sent: SmsMessage[] = [];
  let n = 0;
  const sms: RecordingSms = {
    name: 'recording',
    sent,
    fail: false,
    async send(msg) {
      if (sms.fail) throw new Error('vendor said: 401 bad credentials AC-secret');
      sent.push(msg);
      return { messageId: `SM${String(++n).padStart(6, '0')}` };
    },
    lastTo: (phone) => [...sent].reverse().find((m) => m.to === phone),
  };
  return sms;
}

let phoneCounter = Math.floor(Math.random() * 9_000_000);
/** A unique E.164 phone (digits only) per call. */
export const uniquePhone = () => `1555${String(phoneCounter++ % 10_000_000).padStart(7, '0')}`;
