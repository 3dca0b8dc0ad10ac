import { ApiError, badRequest } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { ProviderError } from '../external/types';

/** A provider failure as the client sees it; the provider's own words stay in the logged cause. */
export function providerApiError(err: unknown, what = 'the provider'): ApiError {
  if (err instanceof ApiError) return err;
  if (!(err instanceof ProviderError)) throw err;
  if (err.kind === 'unavailable') {
    return new ApiError(502, ErrorCodes.providerUnavailable, `Could not reach ${what}, please try again`, { cause: err });
  }
  if (err.kind === 'rejected') return badRequest(ErrorCodes.badOauthCallback, `Unable to exchange external code: ${what} refused (${err.oauthError ?? 'error'})`, { cause: err });
  return badRequest(ErrorCodes.badOauthCallback, `Error getting user profile from ${what}`, { cause: err });
}
