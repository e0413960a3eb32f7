// Who is calling: the bearer token is resolved once per request and remembered for the
// handler and the access log.
import type { Deps } from "../deps";
import { forbidden } from "../domain/errors";
import type { Role } from "../domain/rules";
import type { Principal } from "./cache";
import { authenticate, requireRole } from "./service";

const principals = new WeakMap<Request, Principal>();
const addresses = new WeakMap<Request, string>();

/** Records the peer address the server saw (never a client-sent header such as X-Forwarded-For). */
export function rememberClientAddress(request: Request, address: string | null): void {
  if (address) addresses.set(request, address);
}

/** The peer address of a request, or "unknown" (no server socket, e.g. in-process calls). */
export function clientAddress(request: Request): string {
  return addresses.get(request) ?? "unknown";
}

/** The user a request was authenticated as (for the access log), or null. */
export function requestUser(request: Request): string | null {
  return principals.get(request)?.userId ?? null;
}

/** Authenticates a token the request carries elsewhere (proxies: cookie or query) and remembers it. */
export async function principalFrom(deps: Deps, request: Request, authorization: string | null): Promise<Principal> {
  const principal = await authenticate(deps, authorization);
  principals.set(request, principal);
  requirePasswordChanged(principal, request);
  return principal;
}

/** What a session that must change its password may still do (so the web UI can show the form). */
const UNTIL_CHANGED = new Set(["POST /api/me/password", "POST /api/auth/logout", "GET /api/me"]);

/** 403 password_change_required for a session whose user must change the password, on all else. */
export function requirePasswordChanged(principal: Principal, request: Request): void {
  if (!principal.mustChangePassword) return;
  if (UNTIL_CHANGED.has(`${request.method} ${new URL(request.url).pathname}`)) return;
  throw forbidden(
    "change your password first (POST /api/me/password); until then only that, GET /api/me and logout work",
    "password_change_required",
  );
}

/** Records who a request was authenticated as by other means (an app's cookie). */
export function rememberPrincipal(request: Request, principal: Principal): void {
  principals.set(request, principal);
}

/** Authenticates the request's bearer token; with roles given, also requires one of them. */
export async function principalOf(deps: Deps, request: Request, roles?: readonly Role[]): Promise<Principal> {
  let principal = principals.get(request);
  if (!principal) {
    principal = await authenticate(deps, request.headers.get("authorization"));
    principals.set(request, principal);
  }
  requirePasswordChanged(principal, request);
  if (roles && roles.length > 0) requireRole(principal, ...roles);
  return principal;
}

/** The principal `principalOf` remembered for this request (the auth hooks ran before). */
export function rememberedPrincipal(request: Request): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error("no principal for this request: the route has no auth hook");
  return principal;
}
