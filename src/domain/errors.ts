// Typed errors of the domain. They are mapped to HTTP in one place (src/http/errors.ts).

export type ErrorKind =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "unsupported_media_type"
  | "rate_limited";

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** snake_case code clients can switch on. */
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds after which a retry can succeed (429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string, code = "invalid_field") =>
  new AppError("bad_request", code, message, field);
export const unauthorized = (message = "login required", code = "unauthorized", field?: string) =>
  new AppError("unauthorized", code, message, field);
export const forbidden = (message = "not allowed", code = "forbidden") => new AppError("forbidden", code, message);
export const notFound = (what: string) => new AppError("not_found", "not_found", `${what} not found`);
export const conflict = (message: string, code = "conflict", field?: string) =>
  new AppError("conflict", code, message, field);
export const tooLarge = (message: string, field?: string) => new AppError("too_large", "too_large", message, field);
export const unsupportedType = (message: string, field: string) =>
  new AppError("unsupported_media_type", "unsupported_type", message, field);
export const rateLimited = (message: string, retryAfterSeconds: number, code = "rate_limited") =>
  new AppError("rate_limited", code, message, undefined, retryAfterSeconds);
