// The one typed client of the Hangar API, shared by the web UI and the terminal dashboard:
// Eden Treaty over the server's own `App` type, so every path, body and response is checked
// against the routes themselves. Only streams (SSE log follow) and uploads with progress go
// around it, in ./stream.ts.
import { treaty } from "@elysiajs/eden";
import type { App } from "../app";

export type Api = ReturnType<typeof makeApi>;

/**
 * A client for `baseUrl` (e.g. `location.origin`). `token` is read on every call, so a login
 * or logout takes effect without making a new client.
 */
export function makeApi(baseUrl: string, token: () => string | null = () => null) {
  return treaty<App>(baseUrl, {
    // Keep ISO strings as strings, as the types say (Eden would turn them into Dates).
    parseDate: false,
    headers() {
      const t = token();
      return t ? { authorization: `Bearer ${t}` } : undefined;
    },
  });
}

/** The contract's error body: `{"error": {code, message, field?}}`. */
export interface ApiProblem {
  status: number;
  code: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(readonly problem: ApiProblem) {
    super(problem.message);
  }
  get status() {
    return this.problem.status;
  }
  get field() {
    return this.problem.field;
  }
}

/** Reads the contract's error body out of whatever an error response carried. */
export function problemOf(status: number, value: unknown): ApiProblem {
  const e = (value as { error?: Partial<ApiProblem> } | null)?.error;
  if (e && typeof e.message === "string")
    return { status, code: e.code ?? "error", message: e.message, ...(e.field ? { field: e.field } : {}) };
  const text = typeof value === "string" && value ? value : `request failed (HTTP ${status})`;
  return { status, code: "error", message: text };
}

interface EdenResult {
  data: unknown;
  error: { status: unknown; value: unknown } | null;
  status: number;
}

/**
 * Awaits an Eden call and returns its data, or throws an ApiError with the API's message and
 * field. Network failures become status 0.
 */
export async function ok<R extends EdenResult>(call: Promise<R>): Promise<Exclude<R["data"], null | undefined>> {
  let res: R;
  try {
    res = await call;
  } catch (err) {
    throw new ApiError({ status: 0, code: "network", message: `cannot reach the server: ${(err as Error).message}` });
  }
  if (res.error) {
    // Eden answers a failed fetch (refused, reset, DNS) as a 503 carrying the thrown Error.
    if (res.error.value instanceof Error)
      throw new ApiError({
        status: 0,
        code: "network",
        message: `cannot reach the server: ${res.error.value.message}`,
      });
    const status = typeof res.error.status === "number" ? res.error.status : res.status;
    throw new ApiError(problemOf(status, res.error.value));
  }
  return res.data as Exclude<R["data"], null | undefined>;
}

/** What a client call answers on success, e.g. `Data<Api["api"]["nodes"]["get"]>`: derived, never written by hand. */
// biome-ignore lint/suspicious/noExplicitAny: any call's arguments
export type Data<F extends (...args: any[]) => Promise<EdenResult>> = Exclude<
  Awaited<ReturnType<F>>["data"],
  null | undefined
>;
