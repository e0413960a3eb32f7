// Schema pieces and helpers shared by the routes and the nouns' model.ts files (TypeBox through Elysia's `t`).
import { type TSchema, t } from "elysia";
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

/** The contract's list shape for items of `item`: `{items, total}`. */
export const Page = <T extends TSchema>(item: T) => t.Object({ items: t.Array(item), total: t.Integer() });

/** A plain-text body (logs), documented as such; the handler returns a Response. */
export const TextBody = t.String({ description: "text/plain" });

/** Longest workspace, training, dataset, job, deployment and node name (domain/rules `nameProblem`). */
export const NAME_MAX = 20;
/** Longest user ID and password (domain/rules `userIdProblem`, `passwordProblem`). */
export const USER_ID_MAX = 20;
export const PASSWORD_MAX = 20;

/** A name field: the length is checked here, the alphabet by the service (with a clearer message). */
export const Name = (description?: string) => t.String({ maxLength: NAME_MAX, description });

/** An ISO 8601 time as the API returns it. */
export const Time = t.String({ description: "ISO 8601, UTC" });

/** A union of string literals, e.g. `Literals(ROLES)`. */
export const Literals = <const T extends readonly string[]>(values: T) =>
  t.Union(values.map((v) => t.Literal(v))) as unknown as ReturnType<typeof t.Union<LiteralTuple<T>>>;

// A tuple type (not an array of literals), so that Elysia's types see each literal.
type LiteralTuple<T extends readonly string[]> = { -readonly [K in keyof T]: ReturnType<typeof t.Literal<T[K]>> };
