import type { PasswordHasher } from '../crypto/password-hasher';
import type { Mailer } from '../mailer/mailer';
import type { SmsProvider } from '../sms/sms-provider';
import { secondsSince, timed, type Metrics } from './metrics';

/** The hasher, timing every hash, verify and burn. */
export function meteredHasher(h: PasswordHasher, m: Metrics): PasswordHasher {
  const time =
    <A extends unknown[], T>(operation: 'hash' | 'verify' | 'burn', f: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      const start = process.hrtime.bigint();
      try {
        return await f(...a);
      } finally {
        m.passwordHash(operation, secondsSince(start));
      }
    };
  return { hash: time('hash', h.hash.bind(h)), verify: time('verify', h.verify.bind(h)), burn: time('burn', h.burn.bind(h)) };
}

const MAIL_SENDS = {
  sendConfirmation: 'confirmation',
  sendInvite: 'invite',
  sendRecovery: 'recovery',
  sendMagicLink: 'magic_link',
  sendEmailChange: 'email_change',
  sendReauthentication: 'reauthentication',
} as const satisfies Record<Exclude<keyof Mailer, 'transport' | 'sendNotification'>, string>;

/** The mailer, counting each send by kind and outcome. */
export function meteredMailer(mailer: Mailer, m: Metrics): Mailer {
  const out = { transport: mailer.transport } as { -readonly [K in keyof Mailer]: Mailer[K] };
  for (const [method, kind] of Object.entries(MAIL_SENDS) as [keyof typeof MAIL_SENDS, string][]) {
    out[method] = (input) => timed(() => mailer[method](input), (outcome) => m.mail(kind, outcome));
  }
  // Security notifications (password_changed, …) count as `<kind>_notification`.
  out.sendNotification = (kind, n) => timed(() => mailer.sendNotification(kind, n), (outcome) => m.mail(`${kind}_notification`, outcome));
  return out;
}

/** The SMS vendor, counting each send by outcome (verifyOtp is a check, not a send). */
export function meteredSms(sms: SmsProvider, m: Metrics): SmsProvider {
  return {
    name: sms.name,
    send: (msg) => timed(() => sms.send(msg), (outcome) => m.sms(sms.name, outcome)),
    ...(sms.verifyOtp ? { verifyOtp: sms.verifyOtp.bind(sms) } : {}),
  };
}
