// <deployment's origin>/deployments/<ws>/<name>/… → the deployment's server (HTTP). The prefix
// is removed, so the server sees `/…` (and the prefix in X-Forwarded-Prefix); only users who may
// see the deployment get through (bearer header, API key, or the cookie of the web UI's Open).
// The deployment has an origin of its own (http/appOrigins); Hangar's cookies, the Referer and
// the Origin never reach the server, and its cookies stay under its prefix (http/forward).
import type { Deps } from "../deps";
import { AppError, notFound } from "../domain/errors";
import { errorResponse, toErrorResponse } from "../http/errors";
import { forwardHttp, upstreamHeaders } from "../http/forward";
import { type AppRef, appCaller, appPrefix } from "../http/proxyCookie";
import { deploymentFor, deploymentTarget } from "./service";

/** Handles a request on a deployment's own origin. */
export async function proxyDeployment(deps: Deps, request: Request, app: AppRef): Promise<Response> {
  const url = new URL(request.url);
  const prefix = appPrefix(app);
  try {
    const { principal } = await appCaller(deps, request, app);
    const { row } = await deploymentFor(deps, principal, app.ws, app.name);
    const target = await deploymentTarget(deps, row);
    if (!target) throw notFound(`deployment ${app.name} is not running`);
    const headers = upstreamHeaders(request);
    headers.set("x-forwarded-prefix", prefix.slice(0, -1));
    headers.set("x-hangar-user", principal.userId);
    const rest = url.pathname.slice(prefix.length - 1);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : request.body;
    return await forwardHttp(`http://${target.origin}${rest}${url.search}`, request, headers, body, {
      prefix,
      mounted: true,
    });
  } catch (err) {
    if (err instanceof AppError) return toErrorResponse("", err, deps.logger, "deployment proxy");
    return errorResponse(502, "bad_gateway", `deployment ${app.name} unreachable: ${(err as Error).message}`);
  }
}
