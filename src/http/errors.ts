// The one place where errors become HTTP responses: {"error": {code, message, field?}}.
import { AppError, type ErrorKind } from "../domain/errors";
import type { Logger } from "../lib/logger";

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
};

export function errorResponse(status: number, code: string, message: string, field?: string, headers?: HeadersInit) {
  return Response.json({ error: field ? { code, message, field } : { code, message } }, { status, headers });
}

interface ValidationLike {
  type?: string;
  valueError?: { path?: string; message?: string; schema?: SchemaLike };
  all?: { path?: string; message?: string; summary?: string; schema?: SchemaLike }[];
}

interface SchemaLike {
  description?: string;
  const?: unknown;
  anyOf?: { const?: unknown }[];
}

/** "must be one of a, b" for a union of literals (TypeBox only says "should be one of: 'string', …"). */
function choices(schema: SchemaLike | undefined): string | null {
  if (schema?.const !== undefined) return `must be ${schema.const}`;
  const values = schema?.anyOf?.map((s) => s.const);
  if (!values?.length || values.some((v) => v === undefined)) return null;
  return `must be one of ${values.join(", ")}`;
}

/** Maps anything thrown in a handler (or by Elysia itself) to the contract's error shape. */
export function toErrorResponse(code: string | number, error: unknown, logger: Logger, what: string): Response {
  if (error instanceof AppError) {
    const headers =
      error.retryAfterSeconds !== undefined ? { "retry-after": String(error.retryAfterSeconds) } : undefined;
    return errorResponse(STATUS[error.kind], error.code, error.message, error.field, headers);
  }
  switch (code) {
    case "VALIDATION": {
      const v = error as ValidationLike;
      // A response that does not match its schema is the server's bug, not the client's.
      if (v.type === "response") {
        logger.error("response does not match its schema", { what, err: error });
        return errorResponse(500, "internal", "internal error; the master's log has the details");
      }
      const first = v.all?.[0] ?? v.valueError;
      const field = (first?.path ?? "").replace(/^\//, "").replaceAll("/", ".") || v.type || "body";
      const detail =
        choices(first?.schema) ?? (first as { summary?: string })?.summary ?? first?.message ?? "invalid value";
      return errorResponse(400, "invalid_field", `${field}: ${detail}`, field);
    }
    case "PARSE":
      return errorResponse(400, "invalid_body", "request body is not valid JSON or form data", "body");
    case "NOT_FOUND":
      return errorResponse(404, "not_found", "no such route");
    case "INVALID_COOKIE_SIGNATURE":
      return errorResponse(400, "invalid_cookie", "invalid cookie");
  }
  const status = (error as { status?: number })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return errorResponse(status, "bad_request", (error as Error).message || "bad request");
  }
  logger.error("unhandled error", { what, err: error });
  return errorResponse(500, "internal", "internal error; the master's log has the details");
}
