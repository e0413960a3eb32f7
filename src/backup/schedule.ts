// The daily backup job (kelektiv `cron`): back up, then prune past the retention.
import { CronJob } from "cron";
import type { Config } from "../config";
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/logger";
import { backupAndPrune } from "./backup";

export function scheduleBackups(config: Config, clock: Clock, logger: Logger): CronJob {
  return CronJob.from({
    cronTime: config.backupCron,
    start: true,
    waitForCompletion: true,
    onTick: async () => {
      const { file, removed } = await backupAndPrune(config, clock);
      logger.info("backup written", { file: file.name, bytes: file.bytes, pruned: removed });
    },
    errorHandler: (err) => logger.error("scheduled backup failed", { err }),
  });
}
