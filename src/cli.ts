// `bun run hangar <verb>`: the operator CLI.

import { eq } from "drizzle-orm";
import { createAccessLog } from "./accesslog/writer";
import { backupAndPrune, listBackups, restore } from "./backup/backup";
import { ConfigError, loadConfig } from "./config";
import { createDeps } from "./deps";
import { ensureDefaultImage } from "./images/service";
import { systemClock } from "./lib/clock";
import { silentLogger } from "./lib/logger";
import { runningMaster } from "./lib/pidfile";
import { openStore } from "./store/store";

const USAGE = `usage: bun run hangar <command> [--data-dir DIR] [--database-url URL]

commands:
  backup now        write <data>/backup/jfb-YYYYMMDD-hhmmss.(db|sql) and prune old ones
  backup list       list the backups in the data dir
  tui               the terminal dashboard (on the master: no login needed; elsewhere --url URL)
  images reinit     register the built-in default image again (HANGAR_DEFAULT_IMAGE) if it was deleted
  restore FILE      replace the database with a backup (stop the master first)
  help              this text

Settings come from the same environment as the master (HANGAR_DATA_DIR, DATABASE_URL, …).`;

async function main(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === "tui") return (await import("../tui/main")).runTui(rest);
  const sub = rest[0] && !rest[0].startsWith("--") ? rest.shift() : undefined;
  const config = loadConfig(process.env, rest);
  switch (`${verb ?? "help"} ${sub ?? ""}`.trim()) {
    case "backup now": {
      const { file, removed } = await backupAndPrune(config, systemClock);
      console.log(`backup written: ${file.path} (${file.bytes} bytes)`);
      if (removed.length) console.log(`removed old backups: ${removed.join(", ")}`);
      return 0;
    }
    case "backup list":
      for (const b of listBackups(config)) console.log(`${b.name}\t${b.bytes}\t${b.takenAt}`);
      return 0;
    case "images reinit": {
      const store = await openStore(config);
      try {
        const deps = createDeps({
          config,
          store,
          clock: systemClock,
          logger: silentLogger,
          accessLog: createAccessLog(config.dataDir),
        });
        const result = await ensureDefaultImage(deps, { wait: true });
        const [row] = await store.db.select().from(store.t.images).where(eq(store.t.images.id, result.id));
        console.log(
          result.created
            ? `default image ${config.defaultImage} registered again: ${row?.status}${row?.statusReason ? ` (${row.statusReason})` : ""}`
            : `default image already registered (${row?.reference}, ${row?.status})`,
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case "help":
      console.log(USAGE);
      return 0;
  }
  if (verb === "restore" && sub) {
    const pid = runningMaster(config.dataDir);
    if (pid !== null) {
      console.error(`hangar: the master (pid ${pid}) is running on ${config.dataDir}; stop it before restoring`);
      return 1;
    }
    await restore(config, sub);
    console.log(`restored ${sub}; start the master again`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (err) {
  console.error(`hangar: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
