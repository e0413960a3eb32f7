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
import type { AppHandler } from "./http/appOrigins";
import { limitBody } from "./http/bodyLimit";
import { errorResponse, toErrorResponse } from "./http/errors";
import { appPrefix, LOGIN_PATH, redeemTicket } from "./http/proxyCookie";
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
  return logged(deps, async (incoming, path, ip) => {
    // Notebooks and deployments are served on origins of their own (http/appOrigins), never here.
    if (path.startsWith("/notebooks/") || path.startsWith("/deployments/"))
      return {
        request: incoming,
        response: errorResponse(
          404,
          "app_origin",
          "notebooks and deployments are served on their own address: open them from the web UI, or use the training's notebookUrl / the deployment's url",
        ),
      };
    const request = await limitBody(incoming, path, maxJson);
    rememberClientAddress(request, ip);
    return { request, response: await app.fetch(request) };
  });
}

/**
 * What a notebook's or a deployment's own listener serves (http/appOrigins), with the access
 * log: the ticket login under its prefix, everything else to its proxy.
 */
export function createAppHandler(deps: Deps): AppHandler {
  return (incoming, server, target) =>
    logged(deps, async (request, path) => {
      // A proxied request may wait on its container longer than Bun.serve's 10 s idle timeout
      // (a slow answer, a stream that pauses): it carries its own, the server's is off for it.
      server.timeout(request, 0);
      if (path === `${appPrefix(target)}${LOGIN_PATH}`) {
        const response = await redeemTicket(deps, request, target).catch((err) =>
          toErrorResponse("", err, deps.logger, "app login"),
        );
        return { request, response };
      }
      const response =
        target.kind === "notebook"
          ? await proxyNotebook(deps, request, server, target)
          : await proxyDeployment(deps, request, target);
      return { request, response };
    })(incoming, server);
}

function logged(
  deps: Deps,
  serve: (request: Request, path: string, ip: string | null) => Promise<{ request: Request; response: Response }>,
): Handler {
  return async (incoming, server) => {
    const t0 = performance.now();
    const ip = server?.requestIP(incoming)?.address ?? null;
    const url = incoming.url;
    const path = pathOf(url);
    let request = incoming;
    rememberClientAddress(incoming, ip);
    let status = 500;
    try {
      const out = await serve(incoming, path, ip);
      request = out.request;
      status = out.response.status;
      return out.response;
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
