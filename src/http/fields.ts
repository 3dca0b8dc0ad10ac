import { z } from 'zod';
import { isSettablePasswordLength, PASSWORD_TOO_LONG } from '../domain/password-policy';
import { isStorableText } from '../domain/text';
import { isUuid } from '../domain/uuid';
import type { IssueParams } from './error-handler';

/**
 * The shared request fields: every handler builds its body, query and path schemas from these, so hostile text
 * (NUL, unpaired surrogates, megabyte strings, metadata nested thousands deep) is a 400 at the edge and never
 * reaches Postgres, a mail or a log line. Meaning (an email's format, a phone's digits) stays with the flows.
 */

/** Longest free-text field (a token, a name, a filter): far beyond any real value, far below the body limit. */
export const MAX_TEXT = 4096;
/** user_metadata / app_metadata: nesting and serialized size caps. */
export const MAX_METADATA_DEPTH = 32;
export const MAX_METADATA_BYTES = 64 * 1024;

const UNSTORABLE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** JSON null counts as absent, as GoTrue reads it (auth-js sends `code_challenge: null`). */
const absentIfNull = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

/** A string Postgres can store, at most `max` characters; `required` words the error for a missing one. */
export const safeString = (max = MAX_TEXT, required?: string) =>
  z
    .string(required === undefined ? undefined : { error: required })
    .max(max)
    .refine(isStorableText, UNSTORABLE);

/** An optional safe string; null = absent. */
export const optString = (max = MAX_TEXT) => absentIfNull(safeString(max));

/** An optional boolean; null = absent. */
export const optBool = () => absentIfNull(z.boolean());

/** An email address as sent; its format is checked by the flow (GoTrue's email_address_invalid). */
export const email = () => optString(MAX_TEXT);

/** A phone number as sent; the flow normalizes it to E.164 digits. */
export const phone = () => optString(256);

/** A redirect target in a body; whether it is allowed is decided by the redirect rules, never an error. */
export const redirectTo = () => optString(MAX_TEXT);

/** A password being checked (sign-in, current_password): no 72-byte rule, an imported hash may hold a longer one. */
export const passwordToCheck = () => optString(MAX_TEXT);

/**
 * A password being set (signup, PUT /user, admin create/update, generate_link). GoTrue's checkPasswordStrength
 * refuses more than 72 bytes (`len(password)` in Go) with 400 validation_failed and this exact message.
 */
export const newPassword = () =>
  optString(MAX_TEXT).refine((v) => v === undefined || isSettablePasswordLength(v), {
    message: PASSWORD_TOO_LONG,
    params: { bare: true } satisfies IssueParams,
  });

/**
 * Why a metadata value cannot be stored, or undefined. Walks iteratively (no recursion, so depth cannot overflow
 * the stack): at most MAX_METADATA_DEPTH levels, every key and string storable, at most MAX_METADATA_BYTES as JSON.
 */
export function metadataProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) return UNSTORABLE;
    } else if (v !== null && typeof v === 'object') {
      if (depth > MAX_METADATA_DEPTH) return `must not be nested more than ${MAX_METADATA_DEPTH} levels deep`;
      for (const [k, child] of Object.entries(v)) {
        if (!Array.isArray(v) && !isStorableText(k)) return `keys ${UNSTORABLE}`;
        stack.push([child, depth + 1]);
      }
    }
  }
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_METADATA_BYTES) return `must be at most ${MAX_METADATA_BYTES} bytes as JSON`;
  return undefined;
}

/** user_metadata / app_metadata / data: a JSON object within the caps; null = absent. */
export const metadata = () =>
  absentIfNull(
    z.record(z.string(), z.unknown()).superRefine((v, ctx) => {
      const problem = metadataProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

/** A path UUID; anything else is GoTrue's 404 validation_failed "<name> must be an UUID". Lower-cased. */
export const uuidParam = (name: string) =>
  z
    .string()
    .refine(isUuid, { message: `${name} must be an UUID`, params: { status: 404, bare: true } satisfies IssueParams })
    .transform((v) => v.toLowerCase());

/** Any query parameter a handler passes on unread (an upstream provider's extra parameters): safe text. */
export const anyQueryValue = () => z.union([safeString(), z.array(safeString())]);

/** A query parameter as Go's url.Values.Get reads it: the first value, '' when absent; safe text. */
export const queryString = (max = MAX_TEXT) =>
  z.preprocess((v) => (Array.isArray(v) ? v[0] : v) ?? '', safeString(max));

/** PKCE parameters a flow may start with; the flow checks their form (contract §6). */
export const pkceFields = { code_challenge: optString(), code_challenge_method: optString() };
