// Starting and stopping the whole master: config → store → deps → app → loops.
import { mkdirSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { createAccessLog } from "./accesslog/writer";
import { createHandler } from "./app";
import { scheduleBackups } from "./backup/schedule";
import type { Config } from "./config";
import { createDeps, type Deps } from "./deps";
import { ensureDefaultImage } from "./images/service";
import { type Clock, systemClock } from "./lib/clock";
import { createLogger, type Logger } from "./lib/logger";
import { claimPidFile } from "./lib/pidfile";
import { probeAllNodes, registerLocalNode } from "./nodes/service";
import { notebookLastUse, notebookSockets } from "./notebooks/proxy";
import { stopIdleNotebooks } from "./notebooks/service";
import { SchedulerLoop } from "./scheduler/loop";
import { SshGateway } from "./ssh/gateway";
import { jobRoots } from "./ssh/roots";
import { openStore } from "./store/store";
import { bootstrapRoot } from "./users/service";

export interface Master {
  deps: Deps;
  url: string;
  port: number;
  generatedRootPassword?: string;
  stop(): Promise<void>;
}

export async function startMaster(
  config: Config,
  options: { clock?: Clock; logger?: Logger; schedule?: boolean } = {},
): Promise<Master> {
  const logger = options.logger ?? createLogger();
  mkdirSync(config.dataDir, { recursive: true });
  const releasePid = claimPidFile(config.dataDir);
  const store = await openStore(config);
  const deps = createDeps({
    config,
    store,
    clock: options.clock ?? systemClock,
    logger,
    accessLog: createAccessLog(config.dataDir),
  });
  const root = await bootstrapRoot(deps);
  await registerLocalNode(deps, displayHost(config.host)).catch((err) =>
    logger.warn("registering the master as node local failed", { err }),
  );
  const healthLoop = startHealthLoop(deps);
  await ensureDefaultImage(deps).catch((err) => logger.warn("registering the default image failed", { err }));
  const gateway = new SshGateway(deps, (jobId) => jobRoots(deps, jobId));
  deps.sshPortOf = (jobId) => gateway.portOf(jobId);
  const scheduler = new SchedulerLoop(deps, () => gateway.sync());
  await scheduler.reconcile();
  scheduler.start();
  // Use is tracked in memory: after a restart, an unused notebook counts from the master's start
  // (not from its own, which would stop every long-running notebook at once).
  const startedAt = deps.clock.now().getTime();
  const idleNotebooks = setInterval(
    () =>
      void stopIdleNotebooks(deps, notebookLastUse, startedAt).catch((err) => logger.warn("idle notebooks", { err })),
    1000,
  );
  const handler = createHandler(deps);
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    // Large uploads (datasets, image tars) are streamed; the limit is enforced per route.
    maxRequestBodySize: 1024 ** 4,
    fetch: handler,
    websocket: notebookSockets(deps),
  });
  const port = server.port ?? config.port;
  const backups = options.schedule === false ? null : scheduleBackups(config, deps.clock, logger);
  const url = `http://${displayHost(config.host)}:${port}`;
  logger.info("master started", { url, dataDir: config.dataDir, store: store.kind });

  let stopped = false;
  return {
    deps,
    url,
    port,
    generatedRootPassword: root.generatedPassword,
    async stop() {
      if (stopped) return;
      stopped = true;
      backups?.stop();
      healthLoop.stop();
      clearInterval(idleNotebooks);
      await scheduler.stop();
      await gateway.close();
      await deps.nodes.close();
      await server.stop(true);
      deps.accessLog.close();
      await store.close();
      releasePid();
    },
  };
}

function displayHost(host: string): string {
  if (host !== "0.0.0.0" && host !== "::") return host;
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
}

/** Probes every node that should be attached, every HANGAR_NODE_PROBE_SECONDS; rounds never overlap. */
function startHealthLoop(deps: Deps): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    probeAllNodes(deps)
      .catch((err) => deps.logger.error("node health round failed", { err }))
      .finally(() => {
        running = false;
      });
  }, deps.config.nodeProbeSeconds * 1000);
  return { stop: () => clearInterval(timer) };
}
