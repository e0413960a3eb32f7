// Who is calling: the bearer token is resolved once per request and remembered for the
// handler and the access log.
import type { Principal } from "../auth/cache";
import { authenticate, requireRole } from "../auth/service";
import type { Deps } from "../deps";
import type { Role } from "../domain/rules";
import { trainingFor } from "../trainings/service";
import { workspaceFor } from "../workspaces/access";

const principals = new WeakMap<Request, Principal>();

export function requestUser(request: Request): string | null {
  return principals.get(request)?.userId ?? null;
}

/** Authenticates a token the request carries elsewhere (proxies: cookie or query) and remembers it. */
export async function principalFrom(deps: Deps, request: Request, authorization: string | null): Promise<Principal> {
  const principal = await authenticate(deps, authorization);
  principals.set(request, principal);
  return principal;
}

/** Authenticates the request's bearer token; with roles given, also requires one of them. */
export async function principalOf(deps: Deps, request: Request, ...roles: Role[]): Promise<Principal> {
  let principal = principals.get(request);
  if (!principal) {
    principal = await authenticate(deps, request.headers.get("authorization"));
    principals.set(request, principal);
  }
  if (roles.length > 0) requireRole(principal, ...roles);
  return principal;
}

/**
 * A route `transform` hook: authenticates (and checks the role) before the body is validated,
 * so a caller without the right gets 401/403 whatever they sent, never a 400 that probes the API.
 */
export const authed =
  (deps: Deps, ...roles: Role[]) =>
  async ({ request }: { request: Request }) => {
    await principalOf(deps, request, ...roles);
  };

/**
 * For routes under /api/workspaces/:ws(/trainings/:tr): authenticates and checks that the caller
 * may see the workspace (and training) before the body is validated, so another tenant's object
 * answers 404 whatever was sent.
 */
export const authedIn =
  (deps: Deps) =>
  async ({ request, params }: { request: Request; params: Record<string, string | undefined> }) => {
    const principal = await principalOf(deps, request);
    // trainingFor checks the workspace itself.
    if (params.ws && params.tr) await trainingFor(deps, principal, params.ws, params.tr);
    else if (params.ws) await workspaceFor(deps, principal, params.ws);
  };
