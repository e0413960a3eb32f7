// After a master restart the executor of a node uses the stored runtime fact (nvidia or not)
// until this process has checked the node, so GPU jobs placed before the first health round
// still get their devices through the nvidia runtime.
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { systemClock } from "../../src/lib/clock";
import { createLogger } from "../../src/lib/logger";
import { LOCAL_NODE_ID, NodeManager } from "../../src/nodes/manager";
import { loadOrCreateMasterKey } from "../../src/ssh/keys";

describe("node runtime before the first check", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hangar-runtime-"));
  const config = loadConfig({}, [], { dataDir });
  const address = {
    id: LOCAL_NODE_ID,
    ip: "127.0.0.1",
    sshPort: 22,
    sshUser: "root",
    hostKeyFingerprint: null,
    dockerSocket: "/var/run/docker.sock",
  };
  const runtimeOf = async (nvidiaRuntime?: boolean) => {
    const nodes = new NodeManager(config, loadOrCreateMasterKey(dataDir), createLogger(), systemClock);
    const exec = await nodes.executor({ ...address, nvidiaRuntime });
    // The runtime the executor builds containers with (private).
    return (exec as any).runtime() as { nvidiaRuntime: boolean };
  };

  test("the stored fact, not a default", async () => {
    expect((await runtimeOf(true)).nvidiaRuntime).toBe(true);
    expect((await runtimeOf(false)).nvidiaRuntime).toBe(false);
    expect((await runtimeOf(undefined)).nvidiaRuntime).toBe(false);
  });
});
