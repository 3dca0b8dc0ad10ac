import type { Request } from 'express';
import { z } from 'zod';
import { notFound } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { isUuid } from '../../domain/identifiers';

/** A path UUID; anything else is GoTrue's 404 validation_failed ("user_id must be an UUID"). */
export function uuidParam(req: Request, name: 'user_id' | 'factor_id'): string {
  const v = req.params[name];
  if (!isUuid(v)) throw notFound(ErrorCodes.validationFailed, `${name} must be an UUID`);
  return v.toLowerCase();
}

/** An optional boolean; JSON null counts as absent. */
export const optBool = () =>
  z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined);
