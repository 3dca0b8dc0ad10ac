import { Secret, TOTP } from 'otpauth';
import type { Random } from './clock';

/** RFC 6238 as GoTrue's authenticator factors use it: SHA-1, 6 digits, 30-second steps, ±1 step of skew. */
const PERIOD = 30;
const DIGITS = 6;
const SKEW_STEPS = 1;
/** 20 random bytes: 32 base32 characters, GoTrue's (pquerna/otp's) secret size. */
const SECRET_BYTES = 20;

function totpOf(secretBase32: string, issuer = '', label = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secretBase32) });
}

/** A new TOTP key: its base32 secret and the `otpauth://` URI an authenticator app imports. */
export function newTotpKey(random: Pick<Random, 'bytes'>, issuer: string, accountName: string): { secret: string; uri: string } {
  const bytes = random.bytes(SECRET_BYTES);
  const secret = new Secret({ buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer }).base32;
  return { secret, uri: totpOf(secret, issuer, accountName).toString() };
}

/**
 * The time step (floor(unix seconds / 30)) a code belongs to, when it is the secret's code at `now` or one step
 * either side; undefined when it is not. The step is what replay protection remembers.
 */
export function totpStepOf(secretBase32: string, code: string, now: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: now.getTime(), window: SKEW_STEPS });
  return delta === null ? undefined : Math.floor(now.getTime() / 1000 / PERIOD) + delta;
}

/** The code of a secret at a time (tests and the CLI compute what an authenticator app would show). */
export function totpCodeAt(secretBase32: string, at: Date): string {
  return totpOf(secretBase32).generate({ timestamp: at.getTime() });
}

/** The URI as a QR code in SVG markup, as GoTrue returns it (auth-js adds the `data:image/svg+xml` prefix). */
export async function qrCodeSvg(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode'); // only MFA enrolment draws one: not loaded at startup
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'H' });
}
