import type { Request } from 'express';
import { z, type ZodType } from 'zod';
import { badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';

/** GoTrue treats a JSON null like an absent key (auth-js sends `code_challenge: null`). */
export const optString = () =>
  z
    .string()
    .nullish()
    .transform((v) => v ?? undefined);

export const optObject = () =>
  z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((v) => v ?? undefined);

/** Parses the JSON body with a zod schema. No body, or a body that is not a JSON object, is 400 bad_json. */
export function parseBody<T>(req: Request, schema: ZodType<T>): T {
  const body: unknown = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(ErrorCodes.badJson, 'Could not parse request body as JSON: expected a JSON object');
  }
  return schema.parse(body);
}
