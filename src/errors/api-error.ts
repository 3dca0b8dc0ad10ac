import { ErrorCodes, type ErrorCode } from './codes';

/** Extra fields some errors carry in their body (weak_password). */
export interface ApiErrorExtra {
  weak_password?: { message?: string; reasons: string[] };
}

/**
 * The one error type. `message` is sent to the client; `cause` is logged and never sent.
 * `oauth` marks errors answered in RFC 6749 form (`{error, error_description}`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly extra?: ApiErrorExtra;
  readonly oauth?: { error: string };

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; extra?: ApiErrorExtra; oauth?: { error: string } } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.extra = opts.extra;
    this.oauth = opts.oauth;
  }
}

type Opts = ConstructorParameters<typeof ApiError>[3];

export const badRequest = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(400, code, message, opts);
export const unauthorized = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(401, code, message, opts);
export const forbidden = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(403, code, message, opts);
export const notFound = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(404, code, message, opts);
export const unprocessable = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(422, code, message, opts);
export const tooManyRequests = (code: ErrorCode, message: string, opts?: Opts) => new ApiError(429, code, message, opts);
export const internalError = (message: string, cause?: unknown) =>
  new ApiError(500, ErrorCodes.unexpectedFailure, message, { cause });
