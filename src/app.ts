// createApp(deps): the whole HTTP surface. createHandler wraps it with the access log; main.ts
// serves that handler and tests call it with `new Request(…)`.
import { openapi } from "@elysiajs/openapi";
import type { Server } from "bun";
import { Elysia, t } from "elysia";
import pkg from "../package.json" with { type: "json" };
import { accessLogRoutes } from "./accesslog/routes";
import { rememberClientAddress, requestUser } from "./auth/context";
import { authRoutes } from "./auth/routes";
import { backupRoutes } from "./backup/routes";
import { builtinRoutes } from "./builtin/routes";
import { dashboardRoutes } from "./dashboard/routes";
import { datasetRoutes } from "./datasets/routes";
import { proxyDeployment } from "./deployments/proxy";
import { deploymentRoutes } from "./deployments/routes";
import type { Deps } from "./deps";
import { limitBody } from "./http/bodyLimit";
import { toErrorResponse } from "./http/errors";
import { imageRoutes } from "./images/routes";
import { jobRoutes } from "./jobs/routes";
import { nodeRoutes } from "./nodes/routes";
import { proxyNotebook } from "./notebooks/proxy";
import { notebookRoutes } from "./notebooks/routes";
import { queueRoutes } from "./queue/routes";
import { trainingRoutes } from "./trainings/routes";
import { userRoutes } from "./users/routes";
import { webRoutes } from "./web";
import { workspaceRoutes } from "./workspaces/routes";

export const VERSION: string = pkg.version;

export function createApp(deps: Deps) {
  return new Elysia()
    .use(
      openapi({
        path: "/api/docs",
        specPath: "/api/openapi.json",
        provider: null,
        documentation: {
          info: { title: "Hangar API", version: VERSION, description: "Self-hosted GPU training platform" },
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
          security: [{ bearer: [] }],
        },
      }),
    )
    .onError(({ code, error, request, set }) => {
      const response = toErrorResponse(code, error, deps.logger, `${request.method} ${request.url}`);
      set.status = response.status;
      return response;
    })
    .get("/api/health", () => ({ status: "ok" as const, version: VERSION }), {
      response: { 200: t.Object({ status: t.Literal("ok"), version: t.String() }) },
      detail: { tags: ["system"], summary: "Liveness and version", security: [] },
    })
    .use(authRoutes(deps))
    .use(userRoutes(deps))
    .use(accessLogRoutes(deps))
    .use(backupRoutes(deps))
    .use(dashboardRoutes(deps))
    .use(nodeRoutes(deps))
    .use(workspaceRoutes(deps))
    .use(datasetRoutes(deps))
    .use(imageRoutes(deps))
    .use(builtinRoutes(deps))
    .use(trainingRoutes(deps))
    .use(notebookRoutes(deps))
    .use(jobRoutes(deps))
    .use(queueRoutes(deps))
    .use(deploymentRoutes(deps))
    .use(webRoutes());
}

export type App = ReturnType<typeof createApp>;
export type Handler = (request: Request, server?: Server<unknown>) => Promise<Response>;

/**
 * The fetch handler the master serves: the app plus the access log. Logging here, around the
 * whole app, sees every request (errors and unknown routes too) with its final status.
 */
export function createHandler(deps: Deps, app: App = createApp(deps)): Handler {
  const maxJson = deps.config.maxJsonBytes;
  return async (incoming, server) => {
    const t0 = performance.now();
    const ip = server?.requestIP(incoming)?.address ?? null;
    const url = incoming.url;
    const path = pathOf(url);
    let request = incoming;
    rememberClientAddress(incoming, ip);
    let status = 500;
    try {
      // Only notebook and deployment paths go to the proxies; everything else straight to the app.
      // A proxied request may wait on its container longer than Bun.serve's 10 s idle timeout
      // (a slow answer, a stream that pauses): it carries its own, the server's is off for it.
      const proxied = path.startsWith("/notebooks/") || path.startsWith("/deployments/");
      if (proxied) server?.timeout(incoming, 0);
      let response = path.startsWith("/notebooks/")
        ? await proxyNotebook(deps, request, server)
        : path.startsWith("/deployments/")
          ? await proxyDeployment(deps, request)
          : null;
      if (!response) {
        request = await limitBody(incoming, path, maxJson);
        rememberClientAddress(request, ip);
        response = await app.fetch(request);
      }
      status = response.status;
      return response;
    } catch (err) {
      const response = toErrorResponse("UNKNOWN", err, deps.logger, `${incoming.method} ${url}`);
      status = response.status;
      return response;
    } finally {
      deps.accessLog.write({
        time: deps.clock.now(),
        user: requestUser(request),
        ip,
        method: request.method,
        path,
        status,
        ms: performance.now() - t0,
      });
    }
  };
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return url.slice(start, q < 0 ? undefined : q);
}
