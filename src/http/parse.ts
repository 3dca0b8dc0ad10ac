import type { ZodType } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/**
 * Parses a JSON body with a zod schema. A body that is not a JSON object is 400 bad_json; so is no body, unless
 * the schema accepts none (`Body.optional()`: DELETE /admin/users/{id} may come without one).
 */
export function parseBody<T>(body: unknown, schema: ZodType<T>): T {
  if (body === undefined && schema.safeParse(undefined).success) return schema.parse(undefined);
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(ErrorCodes.badJson, 'Could not parse request body as JSON: expected a JSON object');
  }
  return schema.parse(body);
}
