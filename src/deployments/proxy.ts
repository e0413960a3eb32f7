// /deployments/<ws>/<name>/… → the deployment's server (HTTP). The prefix is removed, so the
// server sees `/…` (and the prefix in X-Forwarded-Prefix); only users who may see the
// deployment get through (bearer header, `hangar_token` cookie or query; API keys work too).
import type { Principal } from "../auth/cache";
import { principalFrom } from "../auth/context";
import type { Deps } from "../deps";
import { AppError, notFound } from "../domain/errors";
import { errorResponse, toErrorResponse } from "../http/errors";
import { forwardHttp } from "../http/forward";
import { bearerOf } from "../notebooks/proxy";
import { deploymentFor, deploymentTarget } from "./service";

const PATH = /^\/deployments\/([a-z0-9-]+)\/([a-z0-9-]+)(\/.*)?$/;
const HOP_BY_HOP = ["host", "authorization", "cookie", "connection", "content-length", "keep-alive", "upgrade"];

/** Handles a /deployments/ request; null when the path is not a deployment's. */
export async function proxyDeployment(deps: Deps, request: Request): Promise<Response | null> {
  const url = new URL(request.url);
  const m = PATH.exec(url.pathname);
  if (!m) return null;
  const [, ws, name, rest] = m as unknown as [string, string, string, string | undefined];
  try {
    const principal: Principal = await principalFrom(deps, request, bearerOf(request, url));
    const { row } = await deploymentFor(deps, principal, ws, name);
    const target = await deploymentTarget(deps, row);
    if (!target) throw notFound(`deployment ${name} is not running`);
    url.searchParams.delete("hangar_token");
    const headers = new Headers(request.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    headers.set("x-forwarded-prefix", `/deployments/${ws}/${name}`);
    headers.set("x-hangar-user", principal.userId);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : request.body;
    return await forwardHttp(`http://${target.origin}${rest ?? "/"}${url.search}`, request, headers, body);
  } catch (err) {
    if (err instanceof AppError) return toErrorResponse("", err, deps.logger, "deployment proxy");
    return errorResponse(502, "bad_gateway", `deployment ${name} unreachable: ${(err as Error).message}`);
  }
}
