// `bun run start`: the master appliance.
import { ConfigError, loadConfig } from "./config";
import { startMaster } from "./master";

try {
  const config = loadConfig(process.env, process.argv.slice(2));
  const master = await startMaster(config);
  console.log(`Hangar is running at ${master.url}  (API docs: ${master.url}/api/openapi.json)`);
  if (master.frontUrl) console.log(`Web UI and API over HTTPS: ${master.frontUrl}`);
  if (master.generatedRootPassword)
    console.log(
      `First start: log in as root with password ${master.generatedRootPassword}  (shown once; you will be asked to change it)`,
    );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping Hangar`);
    await master.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
} catch (err) {
  console.error(`hangar: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
