import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

// GoTrue's email pattern (RFC 5322 local part, LDH labels).
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Validates an email and returns it lower-cased, as GoTrue stores it. */
export function normalizeEmail(email: string): string {
  const e = email.trim();
  if (e === '') throw badRequest(ErrorCodes.validationFailed, 'An email address is required');
  if (e.length > 255) throw badRequest(ErrorCodes.validationFailed, 'An email address is too long');
  if (!EMAIL.test(e)) throw badRequest(ErrorCodes.emailAddressInvalid, 'Unable to validate email address: invalid format');
  return e.toLowerCase();
}

/** Strips formatting and the leading '+', then requires E.164 digits, as GoTrue stores phones. */
export function normalizePhone(phone: string): string {
  const p = phone.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  if (!/^[1-9]\d{1,14}$/.test(p)) {
    throw badRequest(ErrorCodes.validationFailed, 'Invalid phone number format (E.164 required)');
  }
  return p;
}

export { isUuid } from './uuid';
