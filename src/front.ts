// The front door the installer sets up: HTTPS on HANGAR_FRONT_PORT, served by Bun itself (no
// proxy), with the same handler as the plain API port; the address the master advertises; and
// the InfiniBand address recorded on node `local`.

import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import type { Server, WebSocketHandler } from "bun";
import type { Config } from "./config";
import type { Deps } from "./deps";
import { errorResponse } from "./http/errors";
import { getNode, patchNode } from "./nodes/service";

type Fetch = (request: Request, server: Server<never>) => Response | Promise<Response>;

/** The HTTPS listener, or null when HANGAR_FRONT_PORT is unset. */
export function serveFront(
  config: Config,
  // biome-ignore lint/suspicious/noExplicitAny: Bun's handler types differ per data shape
  fetch: any,
  // biome-ignore lint/suspicious/noExplicitAny: the notebook proxy's socket data
  websocket: WebSocketHandler<any>,
): Server<unknown> | null {
  if (config.frontPort === null) return null;
  for (const [name, file] of [
    ["HANGAR_TLS_CERT", config.tlsCert],
    ["HANGAR_TLS_KEY", config.tlsKey],
  ] as const)
    if (!file || !existsSync(file))
      throw new Error(`${name}: no file ${file ?? "(unset)"} (a PEM file is needed for HTTPS)`);
  return Bun.serve({
    port: config.frontPort,
    hostname: config.frontHost,
    tls: { cert: Bun.file(config.tlsCert as string), key: Bun.file(config.tlsKey as string) },
    maxRequestBodySize: 1024 ** 4,
    fetch: fetch as Fetch,
    websocket,
    // Never Bun's development error page (it shows source paths and stacks).
    development: false,
    error: () => errorResponse(500, "internal", "internal error; the master's log has the details"),
  });
}

/** HANGAR_ADVERTISE_HOST, else the listen address, else (listening on all) the first LAN IPv4 address. */
export function advertisedHost(config: Config): string {
  if (config.advertiseHost) return config.advertiseHost;
  const host = config.host;
  if (host !== "0.0.0.0" && host !== "::") return host;
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
}

/** Records the interface that holds HANGAR_IB_IP as node `local`'s InfiniBand interface. */
export async function recordLocalInfiniband(deps: Deps, nodeId: string): Promise<void> {
  const ip = deps.config.ibIp;
  if (!ip) return;
  const node = await getNode(deps, nodeId);
  const iface = node.networkInterfaces.find((i) => i.addresses.some((a) => a.split("/")[0] === ip));
  if (!iface) {
    deps.logger.warn("HANGAR_IB_IP: no interface of this machine holds that address; InfiniBand stays unset", { ip });
    return;
  }
  if (iface.kind !== "InfiniBand") {
    deps.logger.warn("HANGAR_IB_IP: the interface holding it is not InfiniBand; InfiniBand stays unset", {
      ip,
      interface: iface.name,
      kind: iface.kind,
    });
    return;
  }
  if (node.interfaces.infiniband === iface.name) return;
  await patchNode(deps, nodeId, { interfaces: { infiniband: iface.name } });
}
