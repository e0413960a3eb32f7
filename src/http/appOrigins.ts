// Notebooks and deployments serve member-controlled pages. Each running one is served on a port
// of its own (HANGAR_APPS_PORTS), never on the web UI's: a port is an origin, so an app's pages
// cannot read the web UI's storage, call the API with its session, or read another app (as they
// could if every app shared one origin). A sandboxing CSP (opaque origin) was not chosen: Jupyter
// needs its cookies and localStorage. The app keeps its path prefix there, so Jupyter's base_url
// and links stay as they are. The listener opens when the app is first opened, listed or found
// running at start, and closes once its job ended; its port is picked from the key's hash, so it
// is the same across master restarts (open tabs keep working) unless taken.
import type { Server, WebSocketHandler } from "bun";
import type { Config } from "../config";
import type { Logger } from "../lib/logger";
import { errorResponse } from "./errors";
import { type AppRef, AppTickets, appKey, appPrefix } from "./proxyCookie";

/** Answers a request that reached `app`'s listener (path already checked to be under its prefix). */
export type AppHandler = (request: Request, server: Server<unknown>, app: AppRef) => Promise<Response>;

interface Listener {
  app: AppRef;
  server: Server<unknown>;
  port: number;
}

export class AppOrigins {
  readonly tickets = new AppTickets();
  private readonly listeners = new Map<string, Listener>();
  private serving: {
    handler: AppHandler;
    // biome-ignore lint/suspicious/noExplicitAny: the notebook proxy's socket data
    websocket: WebSocketHandler<any>;
    host: string;
    advertised: string;
  } | null = null;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** HTTPS when the master serves HTTPS (its certificate is reused). */
  get scheme(): "http" | "https" {
    return this.config.frontPort !== null ? "https" : "http";
  }

  /** Called once by the master: from now on apps get listeners. `advertised`: the host in URLs. */
  // biome-ignore lint/suspicious/noExplicitAny: the notebook proxy's socket data
  start(handler: AppHandler, websocket: WebSocketHandler<any>, advertised: string): void {
    const host = this.config.frontPort !== null ? this.config.frontHost : this.config.host;
    this.serving = { handler, websocket, host, advertised };
  }

  /** The port serving `app`, its listener opened if needed. */
  port(app: AppRef): number {
    const key = appKey(app);
    const open = this.listeners.get(key);
    if (open) return open.port;
    if (!this.serving) throw new Error("apps are not served (the master has not started them)");
    const server = this.listen(app);
    const port = server.port as number;
    this.listeners.set(key, { app, server, port });
    this.logger.info("app listener opened", { app: key, port });
    return port;
  }

  /** `scheme://host:port<prefix>`: where people open the app. */
  url(app: AppRef): string {
    const port = this.port(app);
    return `${this.scheme}://${this.serving?.advertised ?? "127.0.0.1"}:${port}${appPrefix(app)}`;
  }

  /** Closes the listeners of apps not in `live` (their jobs ended). */
  async sweep(live: Set<string>): Promise<void> {
    for (const [key, l] of this.listeners)
      if (!live.has(key)) {
        this.listeners.delete(key);
        this.logger.info("app listener closed", { app: key, port: l.port });
        await l.server.stop(true);
      }
  }

  /** Apps with a listener now (keys). */
  openApps(): string[] {
    return [...this.listeners.keys()];
  }

  async stop(): Promise<void> {
    await this.sweep(new Set());
    this.serving = null;
  }

  private listen(app: AppRef): Server<unknown> {
    const s = this.serving as NonNullable<typeof this.serving>;
    const taken = new Set([...this.listeners.values()].map((l) => l.port));
    const candidates = portCandidates(this.config.appsPorts, appKey(app)).filter((p) => !taken.has(p));
    const prefix = appPrefix(app);
    const tls =
      this.config.frontPort !== null
        ? { cert: Bun.file(this.config.tlsCert as string), key: Bun.file(this.config.tlsKey as string) }
        : undefined;
    let last: unknown;
    for (const port of candidates) {
      try {
        return Bun.serve({
          port,
          hostname: s.host,
          ...(tls ? { tls } : {}),
          maxRequestBodySize: 1024 ** 4,
          fetch: (request, server) => {
            const path = new URL(request.url).pathname;
            if (`${path}/` === prefix) return Response.redirect(prefix, 308);
            if (!path.startsWith(prefix)) return errorResponse(404, "not_found", `this port serves ${prefix} only`);
            return s.handler(request, server as Server<unknown>, app);
          },
          websocket: s.websocket,
          development: false,
          error: () => errorResponse(500, "internal", "internal error; the master's log has the details"),
        });
      } catch (err) {
        last = err;
        if ((err as { code?: string }).code !== "EADDRINUSE" && !/in use/i.test(String(err))) throw err;
      }
    }
    throw new Error(
      `no free port for ${appKey(app)} in HANGAR_APPS_PORTS: ${(last as Error)?.message ?? "range full"}`,
    );
  }
}

/** Ports to try for an app: its hash's place in the range first, then on round the range; [0] for "any". */
export function portCandidates(range: [number, number] | "any", key: string): number[] {
  if (range === "any") return [0];
  const [min, max] = range;
  const size = max - min + 1;
  const start = Number.parseInt(new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 8), 16) % size;
  return Array.from({ length: size }, (_, i) => min + ((start + i) % size));
}
