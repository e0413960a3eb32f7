// Request schemas shared by routes (TypeBox through Elysia's `t`).
import { t } from "elysia";
import { badRequest } from "../domain/errors";

// limit/offset are parsed by `page()` rather than t.Numeric: a failed numeric range check in
// Elysia loses the property path, and the contract wants 400 naming the field.
export const pageQuery = t.Object({
  limit: t.Optional(t.String({ description: "page size, 1–500 (default 50)" })),
  offset: t.Optional(t.String({ description: "items to skip (default 0)" })),
});

function intParam(field: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw badRequest(field, `${field} must be an integer from ${min} to ${max}`);
  return n;
}

export function page(query: { limit?: string; offset?: string }) {
  return {
    limit: intParam("limit", query.limit, 50, 1, 500),
    offset: intParam("offset", query.offset, 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** A list held in memory as the contract's page: `{items, total}` with `?limit=&offset=`. */
export function pageOf<T>(all: T[], query: { limit?: string; offset?: string }): { items: T[]; total: number } {
  const { limit, offset } = page(query);
  return { items: all.slice(offset, offset + limit), total: all.length };
}

/** The `*` of a wildcard route as a path; bad URL encoding is the client's 400. */
export function wildcardPath(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? "");
  } catch {
    throw badRequest("path", "the file path is not valid URL encoding");
  }
}
