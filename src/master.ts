// Starting and stopping the whole master: config → store → deps → app → loops. The one
// composition root: the CLI's `start` and the tests' in-process master (test/helpers/testMaster)
// both build on startMaster, the tests with the options below.

import { mkdirSync } from "node:fs";
import { createAccessLog } from "./accesslog/writer";
import { createAppHandler, createHandler, type Handler } from "./app";
import { issueLocalAdminToken } from "./auth/localAdmin";
import { sealPlaintextSecrets } from "./auth/sealAtRest";
import { deleteExpiredSessions } from "./auth/service";
import { scheduleBackups } from "./backup/schedule";
import type { Config } from "./config";
import { sweepTrash } from "./datasets/rootDelete";
import { liveDeploymentApps } from "./deployments/service";
import { createDeps, type Deps } from "./deps";
import { advertisedHost, recordLocalInfiniband, serveFront } from "./front";
import { errorResponse } from "./http/errors";
import { type AppRef, appKey } from "./http/proxyCookie";
import { ensureDefaultImage } from "./images/service";
import { mountSources } from "./jobs/runner";
import { syncRunningOutputs } from "./jobs/staging/round";
import { type Clock, systemClock } from "./lib/clock";
import { confinedFsProblem } from "./lib/confinedFs";
import { dataLayout } from "./lib/layout";
import { createLogger, type Logger } from "./lib/logger";
import { claimPidFile } from "./lib/pidfile";
import { securePrivatePaths } from "./lib/private";
import { realTicker, type Ticker, type Timer } from "./lib/ticker";
import { probeAllNodes, registerLocalNode } from "./nodes/service";
import { notebookSockets } from "./notebooks/proxy";
import { liveNotebookApps, stopIdleNotebooks } from "./notebooks/service";
import { SchedulerLoop } from "./scheduler/loop";
import { SshGateway } from "./ssh/gateway";
import { jobRoots } from "./ssh/roots";
import { openStore } from "./store/store";
import { bootstrapRoot } from "./users/service";

/** The ticker's names for the master's periodic work (besides the scheduler's, SCHEDULER_TIMER). */
export const NODE_HEALTH_TIMER = "node-health";
export const NOTEBOOK_IDLE_TIMER = "notebook-idle";
export const SESSION_SWEEP_TIMER = "session-sweep";
/** Copies running jobs' /output back from `staged` nodes (jobs/staging/round.ts). */
export const STAGE_SYNC_TIMER = "stage-sync";
export const APP_SWEEP_TIMER = "app-sweep";

export interface MasterOptions {
  clock?: Clock;
  logger?: Logger;
  /** Drives the scheduler's backstop pass, the node health rounds and the notebook idle check (default: setInterval). */
  ticker?: Ticker;
  /** Listen on config.host:port with Bun.serve (default true); without, requests go to `handler`. */
  serve?: boolean;
  /** Run the scheduler (and reconcile live jobs with Docker first) (default true). */
  scheduler?: boolean;
  /** Run the daily backup on HANGAR_BACKUP_CRON (default true). */
  backups?: boolean;
  /** Register the master as node `local` through its own Docker (default true). */
  localNode?: boolean;
  /** Write the console's admin token, run/local-admin.token (default true). */
  localAdmin?: boolean;
  /** Register the default image at first start (default true). */
  defaultImage?: boolean;
  /** How often the access log writes its lines (ms; default the writer's). */
  accessLogFlushMs?: number;
}

export interface Master {
  deps: Deps;
  /** The app: what Bun.serve calls. */
  handler: Handler;
  /** Null without `serve`. */
  url: string | null;
  port: number | null;
  /** The HTTPS front URL (HANGAR_FRONT_PORT), null without one. */
  frontUrl: string | null;
  scheduler: SchedulerLoop | null;
  generatedRootPassword?: string;
  stop(): Promise<void>;
}

export async function startMaster(config: Config, options: MasterOptions = {}): Promise<Master> {
  const logger = options.logger ?? createLogger();
  const ticker = options.ticker ?? realTicker;
  // Member files are served only through descriptors that never follow a link (lib/confinedFs);
  // without openat2 there is no safe way to do it, so no master at all.
  const unsafe = confinedFsProblem();
  if (unsafe) throw new Error(`cannot serve files safely: ${unsafe}`);
  mkdirSync(config.dataDir, { recursive: true });
  const releasePid = claimPidFile(config.dataDir);
  securePrivatePaths(dataLayout(config.dataDir), !config.databaseUrl);
  const store = await openStore(config);
  const deps = createDeps({
    config,
    store,
    clock: options.clock ?? systemClock,
    logger,
    accessLog: createAccessLog(config.dataDir, options.accessLogFlushMs),
  });
  const root = await bootstrapRoot(deps);
  const sealed = await sealPlaintextSecrets(deps);
  if (sealed > 0) logger.info("sealed plaintext secrets", { count: sealed });
  // The console's admin credential (run/local-admin.token, 0600), new at each start.
  const localAdmin =
    options.localAdmin === false
      ? null
      : await issueLocalAdminToken(deps).catch((err) => {
          logger.warn("writing the local admin token failed", { err });
          return null;
        });
  if (options.localNode !== false)
    await registerLocalNode(deps, advertisedHost(config))
      .then((node) => recordLocalInfiniband(deps, node.id))
      .catch((err) => logger.warn("registering the master as node local failed", { err }));
  const healthLoop = startHealthLoop(deps, ticker);
  // Deleted datasets a job had written into as root, left in the trash before (datasets/rootDelete).
  void sweepTrash(deps);
  if (options.defaultImage !== false)
    await ensureDefaultImage(deps).catch((err) => logger.warn("registering the default image failed", { err }));
  const gateway = new SshGateway(deps, (jobId) => jobRoots(deps, jobId));
  let scheduler: SchedulerLoop | null = null;
  if (options.scheduler !== false) {
    scheduler = new SchedulerLoop(deps, { ticker, afterPass: () => gateway.sync() });
    await scheduler.reconcile();
    scheduler.start();
  }
  // Use is tracked in memory: after a restart, an unused notebook counts from the master's start
  // (not from its own, which would stop every long-running notebook at once).
  const startedAt = deps.clock.now().getTime();
  const idleNotebooks = ticker.every(NOTEBOOK_IDLE_TIMER, 1000, () =>
    stopIdleNotebooks(deps, (jobId) => deps.notebookUse.lastUse(jobId), startedAt).catch((err) =>
      logger.warn("idle notebooks", { err }),
    ),
  );
  const stageSync = ticker.every(STAGE_SYNC_TIMER, config.stageSyncSeconds * 1000, () =>
    syncRunningOutputs(deps, (job) => mountSources(deps, job)).catch((err) => logger.warn("output copy back", { err })),
  );
  const sessionSweep = ticker.every(SESSION_SWEEP_TIMER, 3600_000, () =>
    deleteExpiredSessions(deps).catch((err) => logger.warn("deleting expired sessions", { err })),
  );
  const handler = createHandler(deps);
  const sockets = notebookSockets(deps);
  // Notebooks and deployments on ports of their own (also without `serve`: tests open them).
  deps.apps.start(createAppHandler(deps), sockets, advertisedHost(config));
  await openRunningApps(deps).catch((err) => logger.warn("opening the listeners of running apps failed", { err }));
  const appSweep = ticker.every(APP_SWEEP_TIMER, 10_000, () =>
    liveApps(deps)
      .then((live) => deps.apps.sweep(new Set(live.map(appKey))))
      .catch((err) => logger.warn("closing the listeners of stopped apps", { err })),
  );
  const server =
    options.serve === false
      ? null
      : Bun.serve({
          port: config.port,
          hostname: config.host,
          // Large uploads (datasets, image tars) are streamed; the limit is enforced per route.
          maxRequestBodySize: 1024 ** 4,
          fetch: handler,
          websocket: sockets,
          // Never Bun's development error page (it shows source paths and stacks).
          development: false,
          error: () => errorResponse(500, "internal", "internal error; the master's log has the details"),
        });
  const front = options.serve === false ? null : serveFront(config, handler, sockets);
  const port = server ? (server.port ?? config.port) : null;
  const backups = options.backups === false ? null : scheduleBackups(config, deps.clock, logger);
  const url = port === null ? null : `http://${advertisedHost(config)}:${port}`;
  const frontUrl = front ? `https://${advertisedHost(config)}:${front.port}` : null;
  if (url) logger.info("master started", { url, frontUrl, dataDir: config.dataDir, store: store.kind });

  let stopped = false;
  return {
    deps,
    handler,
    url,
    port,
    frontUrl,
    scheduler,
    generatedRootPassword: root.generatedPassword,
    async stop() {
      if (stopped) return;
      stopped = true;
      backups?.stop();
      healthLoop.stop();
      idleNotebooks.stop();
      sessionSweep.stop();
      stageSync.stop();
      appSweep.stop();
      await scheduler?.stop();
      await gateway.close();
      await deps.nodes.close();
      await server?.stop(true);
      await front?.stop(true);
      await deps.apps.stop();
      await localAdmin?.revoke().catch((err) => logger.warn("revoking the local admin token failed", { err }));
      deps.accessLog.close();
      deps.logs.close();
      await store.close();
      releasePid();
    },
  };
}

/** Notebooks and deployments whose job is pending, starting or running. */
async function liveApps(deps: Deps): Promise<AppRef[]> {
  return [...(await liveNotebookApps(deps)), ...(await liveDeploymentApps(deps))];
}

/** After a restart: running apps get their listeners back (the same ports, unless taken), so open tabs keep working. */
async function openRunningApps(deps: Deps): Promise<void> {
  for (const app of await liveApps(deps)) deps.apps.port(app);
}

/** Probes every node that should be attached, every HANGAR_NODE_PROBE_SECONDS; rounds never overlap. */
function startHealthLoop(deps: Deps, ticker: Ticker): Timer {
  let round: Promise<void> | null = null;
  return ticker.every(NODE_HEALTH_TIMER, deps.config.nodeProbeSeconds * 1000, () => {
    round ??= probeAllNodes(deps)
      .catch((err) => deps.logger.error("node health round failed", { err }))
      .finally(() => {
        round = null;
      });
    return round;
  });
}
